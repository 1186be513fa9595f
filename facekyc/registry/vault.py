"""Encryption of rows: one data key per row, wrapped by the master key ring, and blind indexes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from facekyc.crypto import (
    BlindIndexer,
    LocalKeyring,
    TemplateCipher,
    WrappedKey,
    data_key_aad,
    decrypt,
    encrypt,
    new_data_key,
)
from facekyc.documents import IdentityDocument, identity_key


class Vault:
    """Seals and opens row data; `owner` strings (e.g. "subscriber:<ref>") bind ciphertexts to rows."""

    def __init__(self, keyring: LocalKeyring) -> None:
        self.keyring = keyring
        self.templates = TemplateCipher()

    def blind_identity(self, doc: IdentityDocument) -> str:
        """Keyed HMAC of the canonical identity key: look-ups without storing the number."""
        return BlindIndexer(self.keyring.index_key()).index(identity_key(doc))

    def new_key(self, owner: str) -> tuple[bytes, bytes]:
        """A fresh data key and its wrapped form (what the row stores)."""
        key = new_data_key()
        return key, self.keyring.wrap(key, data_key_aad(owner)).to_bytes()

    def open_key(self, wrapped: bytes, owner: str) -> bytes:
        return self.keyring.unwrap(WrappedKey.from_bytes(wrapped), data_key_aad(owner))

    @staticmethod
    def seal(key: bytes, plaintext: bytes, owner: str, part: str) -> bytes:
        return encrypt(key, plaintext, f"{part}:{owner}".encode())

    @staticmethod
    def open(key: bytes, blob: bytes, owner: str, part: str) -> bytes:
        return decrypt(key, blob, f"{part}:{owner}".encode())

    def seal_template(self, key: bytes, template: npt.NDArray[np.float32], owner: str) -> bytes:
        return self.templates.encrypt(key, template, owner)

    def open_template(self, key: bytes, blob: bytes, owner: str) -> npt.NDArray[np.float32]:
        return self.templates.decrypt(key, blob, owner)
