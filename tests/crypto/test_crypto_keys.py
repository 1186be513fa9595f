"""LocalKeyring: key file creation, permissions, reload, env keys, wrapping."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from facekyc.config import Settings
from facekyc.crypto import (
    KEYRING_FILE_NAME,
    LocalKeyring,
    MasterKeyProvider,
    WrappedKey,
    keyring_from_settings,
    new_data_key,
)
from facekyc.errors import DecryptionFailed, KeyNotFound, KeyringError

AAD = b"data_key:42"


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / KEYRING_FILE_NAME


def test_key_file_is_created_0600_and_reloads_to_the_same_keys(key_path: Path) -> None:
    ring = LocalKeyring.load_or_create(key_path)
    assert isinstance(ring, MasterKeyProvider)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert not [p for p in key_path.parent.iterdir() if p.suffix == ".tmp"]  # no temp files left
    data_key = new_data_key()
    wrapped = ring.wrap(data_key, AAD)

    again = LocalKeyring.load_or_create(key_path)
    assert again.key_id == ring.key_id
    assert again.key_ids == ring.key_ids
    assert again.index_key() == ring.index_key()
    assert again.unwrap(wrapped, AAD) == data_key


def test_key_file_holds_keys_but_index_key_only_wrapped(key_path: Path) -> None:
    ring = LocalKeyring.load_or_create(key_path)
    document = json.loads(key_path.read_text())
    assert document["current"] == ring.key_id
    assert len(document["keys"]) == 1
    assert len(base64.b64decode(document["keys"][0]["key"])) == 32
    assert ring.index_key().hex() not in key_path.read_text()
    assert base64.b64encode(ring.index_key()).decode() not in key_path.read_text()


def test_loose_permissions_are_refused(key_path: Path) -> None:
    LocalKeyring.load_or_create(key_path)
    os.chmod(key_path, 0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        LocalKeyring.load_or_create(key_path)


@pytest.mark.parametrize("content", ["", "{}", "[]", '{"format": "facekyc-keyring", "version": 1}', "not json"])
def test_malformed_key_file_is_a_keyring_error(key_path: Path, content: str) -> None:
    key_path.parent.mkdir(parents=True)
    key_path.write_text(content)
    os.chmod(key_path, 0o600)
    with pytest.raises(KeyringError):
        LocalKeyring.load_or_create(key_path)


def test_wrap_round_trip_and_failures(key_path: Path) -> None:
    ring = LocalKeyring.load_or_create(key_path)
    data_key = new_data_key()
    wrapped = ring.wrap(data_key, AAD)
    assert wrapped.key_id == ring.key_id
    assert ring.unwrap(wrapped, AAD) == data_key
    assert ring.wrap(data_key, AAD).blob != wrapped.blob  # random nonce

    with pytest.raises(DecryptionFailed):
        ring.unwrap(wrapped, b"data_key:43")  # another row
    for i in range(len(wrapped.blob)):
        tampered = bytearray(wrapped.blob)
        tampered[i] ^= 0x01
        with pytest.raises(DecryptionFailed):
            ring.unwrap(WrappedKey(wrapped.key_id, bytes(tampered)), AAD)
    for cut in (0, 5, 12, 28, len(wrapped.blob) - 1):
        with pytest.raises(DecryptionFailed):
            ring.unwrap(WrappedKey(wrapped.key_id, wrapped.blob[:cut]), AAD)

    other = LocalKeyring.load_or_create(key_path.parent / "other.json")
    with pytest.raises(KeyNotFound):
        other.unwrap(wrapped, AAD)
    with pytest.raises(DecryptionFailed):  # same label, different key material
        other.unwrap(WrappedKey(other.key_id, wrapped.blob), AAD)


def test_wrapped_key_bytes_format() -> None:
    wrapped = WrappedKey("mk-1", bytes(range(60)))
    raw = wrapped.to_bytes()
    assert raw[0] == 1 and raw[1] == 4 and raw[2:6] == b"mk-1"
    assert WrappedKey.from_bytes(raw) == wrapped
    assert "blob=<60 bytes>" in repr(wrapped)
    for bad in (b"", b"\x01", b"\x02" + raw[1:], raw[:10], b"\x01\x04mk\xff1" + bytes(40)):
        with pytest.raises(DecryptionFailed):
            WrappedKey.from_bytes(bad)
    with pytest.raises(ValueError):
        WrappedKey("bad id with spaces", b"")


def test_env_key_ring_is_deterministic_and_cannot_rotate(tmp_path: Path) -> None:
    b64 = base64.b64encode(bytes(range(32))).decode()
    ring = LocalKeyring.from_base64(b64)
    same = LocalKeyring.from_base64(b64 + "\n")
    assert ring.key_id == same.key_id and ring.key_id.startswith("env-")
    assert ring.index_key() == same.index_key()
    data_key = new_data_key()
    assert same.unwrap(ring.wrap(data_key, AAD), AAD) == data_key
    with pytest.raises(KeyringError):
        ring.add_key()

    # Moving to a key file keeps both the wrapped data keys and the blind index readable.
    wrapped = ring.wrap(data_key, AAD)
    ring.save(tmp_path / KEYRING_FILE_NAME)
    from_file = LocalKeyring.load_or_create(tmp_path / KEYRING_FILE_NAME)
    assert from_file.unwrap(wrapped, AAD) == data_key
    assert from_file.index_key() == ring.index_key()


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode(), ""])
def test_bad_env_key_is_refused_without_echoing_it(value: str) -> None:
    with pytest.raises(KeyringError) as caught:
        LocalKeyring.from_base64(value)
    if value:
        assert value not in str(caught.value)


def test_keyring_from_settings(tmp_path: Path) -> None:
    from_file = keyring_from_settings(Settings(data_dir=tmp_path))
    assert from_file.path == tmp_path / KEYRING_FILE_NAME
    b64 = base64.b64encode(os.urandom(32)).decode()
    from_env = keyring_from_settings(Settings(data_dir=tmp_path, master_key=b64))
    assert from_env.path is None and from_env.key_id.startswith("env-")


def test_repr_shows_no_key_material(key_path: Path) -> None:
    ring = LocalKeyring.load_or_create(key_path)
    text = repr(ring)
    for entry in json.loads(key_path.read_text())["keys"]:
        assert entry["key"] not in text


def test_concurrent_first_use_agrees_on_one_key_file(key_path: Path) -> None:
    import threading

    barrier = threading.Barrier(8)
    rings: list[LocalKeyring] = []

    def start() -> None:
        barrier.wait()
        rings.append(LocalKeyring.load_or_create(key_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({ring.key_id for ring in rings}) == 1
    assert len({ring.index_key() for ring in rings}) == 1


def test_two_writers_never_lose_a_key(key_path: Path) -> None:
    first = LocalKeyring.load_or_create(key_path)
    second = LocalKeyring.load_or_create(key_path)
    a = first.add_key()
    b = second.add_key()  # re-reads under the file lock before writing
    assert {a, b} <= set(LocalKeyring.load_or_create(key_path).key_ids)
