"""Data-key envelope and template sealing: round trips, and every failure is DecryptionFailed."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from facekyc.crypto import (
    LocalKeyring,
    TemplateCipher,
    WrappedKey,
    data_key_aad,
    decrypt,
    encrypt,
    new_data_key,
)
from facekyc.errors import DecryptionFailed


def template(dim: int = 128, seed: int = 0) -> np.ndarray:
    vec = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vec / np.linalg.norm(vec)


def test_envelope_round_trip_and_format() -> None:
    key = new_data_key()
    assert len(key) == 32 and key != new_data_key()
    blob = encrypt(key, b"hello", b"row:1")
    assert blob[0] == 1 and len(blob) == 1 + 12 + 5 + 16
    assert decrypt(key, blob, b"row:1") == b"hello"
    assert encrypt(key, b"hello", b"row:1") != blob
    assert decrypt(key, encrypt(key, b"", b""), b"") == b""


def test_envelope_failures() -> None:
    key = new_data_key()
    blob = encrypt(key, b"secret template bytes", b"template:1")
    with pytest.raises(DecryptionFailed):
        decrypt(key, blob, b"template:2")
    with pytest.raises(DecryptionFailed):
        decrypt(new_data_key(), blob, b"template:1")
    with pytest.raises(DecryptionFailed):
        decrypt(key[:16], blob, b"template:1")
    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x80
        with pytest.raises(DecryptionFailed):
            decrypt(key, bytes(tampered), b"template:1")
    for cut in range(len(blob)):
        with pytest.raises(DecryptionFailed):
            decrypt(key, blob[:cut], b"template:1")
    with pytest.raises(ValueError):
        encrypt(b"short", b"x", b"")


def test_template_round_trip() -> None:
    cipher = TemplateCipher(dim=128)
    key = new_data_key()
    vec = template()
    blob = cipher.encrypt(key, vec, subscriber_id=7)
    out = cipher.decrypt(key, blob, subscriber_id=7)
    assert out.dtype == np.float32 and out.shape == (128,)
    assert np.array_equal(out, vec)
    out[0] = 1.0  # a writable copy, not a view of the plaintext buffer


def test_templates_cannot_be_swapped_between_rows() -> None:
    cipher = TemplateCipher()
    key = new_data_key()
    blob = cipher.encrypt(key, template(), subscriber_id="a")
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(key, blob, subscriber_id="b")


def test_template_shape_and_dtype_are_checked() -> None:
    key = new_data_key()
    cipher = TemplateCipher(dim=128)
    with pytest.raises(ValueError):
        cipher.encrypt(key, template().astype(np.float64), 1)
    with pytest.raises(ValueError):
        cipher.encrypt(key, template().reshape(2, 64), 1)
    with pytest.raises(ValueError):
        cipher.encrypt(key, template(64), 1)
    bad = template()
    bad[3] = np.nan
    with pytest.raises(ValueError):
        cipher.encrypt(key, bad, 1)
    # Stored with another dimension: refused on read, never returned with the wrong shape.
    blob = TemplateCipher().encrypt(key, template(512), 1)
    with pytest.raises(DecryptionFailed, match="expected 128"):
        cipher.decrypt(key, blob, 1)
    # Authentic ciphertext that is not a template payload.
    with pytest.raises(DecryptionFailed, match="malformed"):
        cipher.decrypt(key, encrypt(key, b"FT\x00\x00\x00\x80" + b"\x00" * 8, b"template:1"), 1)


def test_crypto_shredding(tmp_path: Path) -> None:
    ring = LocalKeyring.load_or_create(tmp_path / "keyring.json")
    cipher = TemplateCipher()
    data_key = new_data_key()
    blob = cipher.encrypt(data_key, template(), subscriber_id=99)
    wrapped = ring.wrap(data_key, data_key_aad(99)).to_bytes()
    assert np.array_equal(
        cipher.decrypt(ring.unwrap(WrappedKey.from_bytes(wrapped), data_key_aad(99)), blob, 99), template()
    )

    del data_key, wrapped  # the subscriber is erased: only the template ciphertext survives (e.g. a backup)

    masters = [base64.b64decode(k["key"]) for k in json.loads((tmp_path / "keyring.json").read_text())["keys"]]
    for candidate in [*masters, ring.index_key()]:
        with pytest.raises(DecryptionFailed):
            cipher.decrypt(candidate, blob, 99)
    with pytest.raises(DecryptionFailed):  # nor is the ciphertext a wrapped key the ring could open
        ring.unwrap(WrappedKey(ring.key_id, blob), data_key_aad(99))
