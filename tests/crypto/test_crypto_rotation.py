"""Master-key rotation: old wraps stay readable, rewrap moves them, retiring is then safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from facekyc.crypto import LocalKeyring, WrappedKey, data_key_aad, needs_rewrap, new_data_key, rewrap
from facekyc.errors import KeyInUse, KeyNotFound


def test_rotation_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    ring = LocalKeyring.load_or_create(path)
    old_id = ring.key_id
    index_key = ring.index_key()
    rows = {sid: new_data_key() for sid in range(5)}
    stored = {sid: ring.wrap(dk, data_key_aad(sid)) for sid, dk in rows.items()}

    new_id = ring.add_key()
    assert ring.key_id == new_id != old_id
    assert set(ring.key_ids) == {old_id, new_id}
    assert ring.index_key() == index_key

    # Old wraps still unwrap; new wraps use the new key.
    for sid, wrapped in stored.items():
        assert ring.unwrap(wrapped, data_key_aad(sid)) == rows[sid]
        assert needs_rewrap(wrapped, ring)
    assert ring.wrap(new_data_key(), b"x").key_id == new_id

    # Rewrap: half now, half later (no downtime: both kinds readable in between).
    for sid in (0, 1):
        stored[sid] = rewrap(stored[sid], ring, data_key_aad(sid))
        assert stored[sid].key_id == new_id
    assert all(ring.unwrap(w, data_key_aad(sid)) == rows[sid] for sid, w in stored.items())
    for sid in (2, 3, 4):
        stored[sid] = rewrap(stored[sid], ring, data_key_aad(sid))
    assert not any(needs_rewrap(w, ring) for w in stored.values())
    assert rewrap(stored[0], ring, data_key_aad(0)) is stored[0]

    with pytest.raises(KeyInUse):
        ring.retire_key(new_id)
    old_wrap = WrappedKey(old_id, ring.wrap(b"k" * 32, b"").blob)
    ring.retire_key(old_id)
    assert ring.key_ids == (new_id,)
    with pytest.raises(KeyNotFound):
        ring.retire_key(old_id)
    with pytest.raises(KeyNotFound):
        ring.unwrap(old_wrap, b"")

    # After retirement everything is readable, from this ring and from a fresh load.
    reloaded = LocalKeyring.load_or_create(path)
    for ring_ in (ring, reloaded):
        assert all(ring_.unwrap(w, data_key_aad(sid)) == rows[sid] for sid, w in stored.items())
        assert ring_.index_key() == index_key


def test_running_processes_pick_up_rotation_from_the_key_file(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    server = LocalKeyring.load_or_create(path)
    cli = LocalKeyring.load_or_create(path)
    new_id = cli.add_key()

    wrapped_by_cli = cli.wrap(b"d" * 32, b"row")
    assert server.unwrap(wrapped_by_cli, b"row") == b"d" * 32
    assert server.key_id == new_id
    assert server.wrap(b"d" * 32, b"row").key_id == new_id


def test_rewrap_under_the_wrong_row_fails(tmp_path: Path) -> None:
    from facekyc.errors import DecryptionFailed

    ring = LocalKeyring.load_or_create(tmp_path / "keyring.json")
    wrapped = ring.wrap(new_data_key(), data_key_aad(1))
    ring.add_key()
    with pytest.raises(DecryptionFailed):
        rewrap(wrapped, ring, data_key_aad(2))
