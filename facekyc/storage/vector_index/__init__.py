"""The 1:N face index behind one small protocol, with one module per backend, chosen by name here.

The database rows stay the source of truth: every backend is rebuilt from decrypted templates
(`facekyc index sync`, or at start for the in-process ones) and kept in step by the index event log.
Backends: `flat` (exact, float32, in process; the default), `compact` (float16 scan + exact float32
re-rank, in process), `milvus` (Milvus Lite file or a Milvus server; vectors leave the process only
under the keyed rotation given as `transform`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from facekyc.storage.vector_index.base import Hit, VectorIndex
from facekyc.storage.vector_index.flat import FlatIPIndex

BACKENDS = ("flat", "compact", "milvus")
Transform = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]


def open_index(backend: str, *, milvus_uri: str | None = None, collection: str = "facekyc_faces",
               transform: Transform | None = None, **options: Any) -> VectorIndex:
    """The one place a backend is chosen by name."""
    if backend == "flat":
        return FlatIPIndex()
    if backend == "compact":
        from facekyc.storage.vector_index.compact import CompactIndex

        return CompactIndex(**options)
    if backend == "milvus":
        from facekyc.storage.vector_index.milvus import MilvusIndex

        if not milvus_uri:
            raise ValueError("the milvus backend needs FACEKYC_MILVUS_URI (a file path or http(s)://host:19530)")
        if transform is None:
            raise ValueError("the milvus backend needs the keyed transform: vectors never leave the process in clear")
        return MilvusIndex(milvus_uri, collection, transform, **options)
    raise ValueError(f"unknown vector backend {backend!r} (choose one of {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "FlatIPIndex", "Hit", "VectorIndex", "open_index"]
