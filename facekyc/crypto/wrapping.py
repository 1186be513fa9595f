"""Key wrapping: a data key sealed with AES-256-GCM under one master key, and its stored form."""

from __future__ import annotations

import re
import secrets
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from facekyc.crypto._framing import frame
from facekyc.errors import DecryptionFailed

WRAPPED_KEY_VERSION = 1
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_WRAP_LABEL = b"facekyc wrap v1"


@dataclass(frozen=True, slots=True, repr=False)
class WrappedKey:
    """A data key encrypted under the master key `key_id`; `blob` is nonce + ciphertext + tag."""

    key_id: str
    blob: bytes

    def __post_init__(self) -> None:
        if not KEY_ID_PATTERN.fullmatch(self.key_id):
            raise ValueError("key id must be 1-64 characters of A-Z a-z 0-9 . _ : -")

    def to_bytes(self) -> bytes:
        """Version byte, key id length byte, ASCII key id, blob: self-describing and compact."""
        key_id = self.key_id.encode("ascii")
        return struct.pack(">BB", WRAPPED_KEY_VERSION, len(key_id)) + key_id + self.blob

    @classmethod
    def from_bytes(cls, data: bytes) -> WrappedKey:
        """Parse `to_bytes()` output; anything malformed is a DecryptionFailed."""
        if len(data) < 2 or data[0] != WRAPPED_KEY_VERSION:
            raise DecryptionFailed("wrapped key has an unknown format version")
        end = 2 + data[1]
        if len(data) < end + NONCE_SIZE + TAG_SIZE:
            raise DecryptionFailed("wrapped key is truncated")
        try:
            return cls(data[2:end].decode("ascii"), bytes(data[end:]))
        except (UnicodeDecodeError, ValueError):
            raise DecryptionFailed("wrapped key has a malformed key id") from None

    def __repr__(self) -> str:
        return f"WrappedKey(key_id={self.key_id!r}, blob=<{len(self.blob)} bytes>)"


def wrap_with(master: bytes, key_id: str, data_key: bytes, aad: bytes) -> WrappedKey:
    """Seal under `master` with a random 96-bit nonce; the key id is authenticated along with `aad`."""
    if not data_key:
        raise ValueError("data key is empty")
    nonce = secrets.token_bytes(NONCE_SIZE)
    sealed = AESGCM(master).encrypt(nonce, data_key, frame(_WRAP_LABEL, key_id.encode("ascii"), aad))
    return WrappedKey(key_id, nonce + sealed)


def unwrap_with(master: bytes, wrapped: WrappedKey, aad: bytes) -> bytes:
    """Open a `wrap_with` result; wrong key, wrong aad, tampering or truncation: DecryptionFailed."""
    blob = wrapped.blob
    if len(blob) < NONCE_SIZE + TAG_SIZE + 1:
        raise DecryptionFailed("wrapped key is truncated")
    aad_framed = frame(_WRAP_LABEL, wrapped.key_id.encode("ascii"), aad)
    try:
        return AESGCM(master).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad_framed)
    except InvalidTag:
        raise DecryptionFailed("wrapped key did not authenticate (wrong key, wrong row or tampered)") from None


def hkdf(secret: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 without salt: the inputs are already uniformly random keys."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)
