"""Encryption at rest: face templates and ID numbers stay unreadable from a database dump.

Design
------
* **Master keys** (`keys.py`) live outside the database: a `MasterKeyProvider` (pluggable, KMS
  shaped). `LocalKeyring` keeps them in a JSON key file under the data dir (mode 0600, written
  atomically) or takes one key from ``FACEKYC_MASTER_KEY``. Master keys only *wrap* data keys.
* **Data keys** (`envelope.py`): every subscriber gets a random 256-bit data key, stored only
  wrapped (`WrappedKey.to_bytes()`) in their row. Their templates are sealed with AES-256-GCM
  under it, with associated data naming the row (``template:<subscriber_id>``) so ciphertexts
  cannot be swapped between rows. Deleting the wrapped data key shreds the data for good, also
  in backups (crypto-shredding). Any failure raises `DecryptionFailed`, never garbage.
* **Blind index** (`blind_index.py`): document numbers are never stored; an HMAC-SHA256 of the
  canonical identity key (`facekyc.documents.identity_key`) is, for look-ups and counting numbers
  per identity. Its key is HKDF(info=b"facekyc blind index v1") of a random root created once
  with the ring and kept wrapped under the current master key, so rotation never changes it.
* **Rotation** (`rotation.py`): `add_key()` makes a new current master key; old ones still
  unwrap. `rewrap` moves each wrapped data key to the current key; once none `needs_rewrap`,
  the old key can be retired. Templates are never re-encrypted. Servers bound to the key file
  notice the change on their next wrap/unwrap, so no restart is needed.

Blobs: wrapped key = ``0x01 | len(key_id) | key_id | nonce(12) | ciphertext+tag``;
envelope = ``0x01 | nonce(12) | ciphertext+tag``.
"""

from facekyc.crypto.blind_index import BlindIndexer, canonical
from facekyc.crypto.envelope import (
    DATA_KEY_SIZE,
    TemplateCipher,
    data_key_aad,
    decrypt,
    encrypt,
    new_data_key,
    template_aad,
)
from facekyc.crypto.keys import (
    KEYRING_FILE_NAME,
    LocalKeyring,
    MasterKeyProvider,
    WrappedKey,
    keyring_from_settings,
)
from facekyc.crypto.rotation import needs_rewrap, rewrap

__all__ = [
    "DATA_KEY_SIZE",
    "KEYRING_FILE_NAME",
    "BlindIndexer",
    "LocalKeyring",
    "MasterKeyProvider",
    "TemplateCipher",
    "WrappedKey",
    "canonical",
    "data_key_aad",
    "decrypt",
    "encrypt",
    "keyring_from_settings",
    "needs_rewrap",
    "new_data_key",
    "rewrap",
    "template_aad",
]
