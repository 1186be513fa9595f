"""Issue 9, finding 6: the data dir is 0700; the SQLite database with its -wal/-shm and the key file are
0600, also when they existed with looser modes; the start warns when the keyring sits next to the database."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from facekyc.config import Settings
from facekyc.crypto import keyring_from_settings
from facekyc.registry.files import keyring_warnings
from facekyc.registry.service import Registry, open_database

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_files_and_data_dir_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a typical umask that would give 0644 files and 0755 folders
    try:
        settings = Settings(data_dir=tmp_path / "data")
        engine = open_database(settings)
        with engine.begin() as conn:  # a write makes SQLite create the -wal and -shm files
            conn.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1"))
        keyring_from_settings(settings)
        db = settings.data_dir / "facekyc.sqlite3"
        files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"),
                 settings.data_dir / "keyring.json"]
        assert all(f.exists() for f in files), files
        assert mode(settings.data_dir) == 0o700
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        engine.dispose()
    finally:
        os.umask(old)


def test_existing_loose_modes_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = open_database(Settings(data_dir=data))
    engine.dispose()
    db = data / "facekyc.sqlite3"
    data.chmod(0o755)
    db.chmod(0o644)
    open_database(Settings(data_dir=data)).dispose()
    assert mode(data) == 0o700 and mode(db) == 0o600


def test_start_warns_when_the_keyring_sits_next_to_the_database(tmp_path: Path, engine: Any,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with caplog.at_level(logging.WARNING, logger="facekyc"):
        Registry.open(settings, engine).close()
    assert any("next to the database" in r.getMessage() for r in caplog.records)

    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(mode=0o755)
    elsewhere = Settings(data_dir=tmp_path / "data2", keyring_file=secrets_dir / "keyring.json")
    ring = keyring_from_settings(elsewhere)
    assert ring.path == secrets_dir / "keyring.json" and mode(ring.path) == 0o600
    assert not (elsewhere.data_dir / "keyring.json").exists()
    warnings = keyring_warnings(elsewhere, ring.path)
    assert len(warnings) == 1 and "folder" in warnings[0]  # 0755 secrets folder: named, not fatal
    secrets_dir.chmod(0o700)
    assert keyring_warnings(elsewhere, ring.path) == []
