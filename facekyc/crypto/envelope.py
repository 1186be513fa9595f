"""Per-subscriber data keys and the AES-256-GCM envelope that seals templates with them.

Deleting a subscriber's wrapped data key makes every ciphertext under it unreadable for good
(crypto-shredding), including copies in backups.
"""

from __future__ import annotations

import secrets
import struct

import numpy as np
import numpy.typing as npt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from facekyc.errors import DecryptionFailed

DATA_KEY_SIZE = 32
ENVELOPE_VERSION = 1
NONCE_SIZE = 12
TAG_SIZE = 16
_TEMPLATE_MAGIC = b"FT"
_TEMPLATE_HEADER = struct.Struct(">2sI")  # magic, dimension
_FLOAT32_LE = np.dtype("<f4")


def new_data_key() -> bytes:
    """A fresh random 256-bit data key for one subscriber."""
    return secrets.token_bytes(DATA_KEY_SIZE)


def encrypt(data_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Version byte + 96-bit random nonce + ciphertext and tag; the version is authenticated too."""
    if len(data_key) != DATA_KEY_SIZE:
        raise ValueError(f"data key must be {DATA_KEY_SIZE} bytes")
    header = bytes([ENVELOPE_VERSION])
    nonce = secrets.token_bytes(NONCE_SIZE)
    return header + nonce + AESGCM(data_key).encrypt(nonce, plaintext, header + aad)


def decrypt(data_key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Open an `encrypt` blob; any mismatch (key, aad, byte, length) raises DecryptionFailed."""
    if len(data_key) != DATA_KEY_SIZE:
        raise DecryptionFailed("data key has the wrong length")
    if len(blob) < 1 + NONCE_SIZE + TAG_SIZE:
        raise DecryptionFailed("ciphertext is truncated")
    if blob[0] != ENVELOPE_VERSION:
        raise DecryptionFailed("ciphertext has an unknown format version")
    header, nonce, sealed = blob[:1], blob[1:1 + NONCE_SIZE], blob[1 + NONCE_SIZE:]
    try:
        return AESGCM(data_key).decrypt(nonce, sealed, header + aad)
    except InvalidTag:
        raise DecryptionFailed("ciphertext did not authenticate (wrong key, wrong row or tampered)") from None


def template_aad(subscriber_id: str | int) -> bytes:
    """AAD that binds a template ciphertext to its subscriber row."""
    return f"template:{subscriber_id}".encode()


def data_key_aad(subscriber_id: str | int) -> bytes:
    """AAD that binds a wrapped data key to its subscriber row."""
    return f"data_key:{subscriber_id}".encode()


class TemplateCipher:
    """Seals float32 face templates (shape (d,)) under a subscriber's data key, and checks them back."""

    def __init__(self, dim: int | None = None) -> None:
        if dim is not None and dim <= 0:
            raise ValueError("template dimension must be positive")
        self.dim = dim

    def encrypt(self, data_key: bytes, template: npt.NDArray[np.float32], subscriber_id: str | int) -> bytes:
        """Refuse anything but a finite 1-D float32 vector of the expected size, then seal it."""
        if not isinstance(template, np.ndarray) or template.dtype != np.float32 or template.ndim != 1:
            raise ValueError("template must be a 1-D float32 numpy array")
        if self.dim is not None and template.shape[0] != self.dim:
            raise ValueError(f"template must have {self.dim} values")
        if not np.all(np.isfinite(template)):
            raise ValueError("template holds NaN or infinite values")
        payload = _TEMPLATE_HEADER.pack(_TEMPLATE_MAGIC, template.shape[0]) + template.astype(_FLOAT32_LE).tobytes()
        return encrypt(data_key, payload, template_aad(subscriber_id))

    def decrypt(self, data_key: bytes, blob: bytes, subscriber_id: str | int) -> npt.NDArray[np.float32]:
        """Open and re-check the header and size, so a stored blob never yields a wrong-shape vector."""
        payload = decrypt(data_key, blob, template_aad(subscriber_id))
        if len(payload) < _TEMPLATE_HEADER.size:
            raise DecryptionFailed("template payload is malformed")
        magic, dim = _TEMPLATE_HEADER.unpack_from(payload)
        body = payload[_TEMPLATE_HEADER.size:]
        if magic != _TEMPLATE_MAGIC or dim == 0 or len(body) != dim * _FLOAT32_LE.itemsize:
            raise DecryptionFailed("template payload is malformed")
        if self.dim is not None and dim != self.dim:
            raise DecryptionFailed(f"template has {dim} values, expected {self.dim}")
        return np.frombuffer(body, dtype=_FLOAT32_LE).astype(np.float32)
