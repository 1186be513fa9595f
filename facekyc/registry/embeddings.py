"""A compact byte form of a face's per-model embeddings, so they can be sealed and stored."""

from __future__ import annotations

import json
import struct

import numpy as np

from facekyc.errors import DecryptionFailed

_HEADER = struct.Struct(">I")


def pack_embeddings(embeddings: dict[str, np.ndarray]) -> bytes:
    """JSON header (model -> dimension, in order) then little-endian float32 values."""
    names = sorted(embeddings)
    header = json.dumps({n: int(embeddings[n].shape[0]) for n in names}).encode()
    body = b"".join(np.asarray(embeddings[n], dtype="<f4").tobytes() for n in names)
    return _HEADER.pack(len(header)) + header + body


def unpack_embeddings(blob: bytes) -> dict[str, np.ndarray]:
    try:
        (size,) = _HEADER.unpack_from(blob)
        dims: dict[str, int] = json.loads(blob[_HEADER.size:_HEADER.size + size])
        out: dict[str, np.ndarray] = {}
        offset = _HEADER.size + size
        for name, dim in dims.items():
            out[name] = np.frombuffer(blob, dtype="<f4", count=dim, offset=offset).astype(np.float32)
            offset += dim * 4
        if offset != len(blob):
            raise ValueError("trailing bytes")
    except (struct.error, ValueError, json.JSONDecodeError) as exc:
        raise DecryptionFailed("stored embeddings are malformed") from exc
    return out
