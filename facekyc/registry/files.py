"""File modes of what the service keeps on disk: data dir 0700, database and key files 0600."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from facekyc.config import Settings

SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> None:
    """Create the directory 0700, and tighten an existing one (it holds the database and maybe keys)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o700)


def private_sqlite_files(db_file: Path) -> None:
    """Create the database file 0600 before SQLite does (it gives -wal/-shm the same mode) and tighten
    any existing file of the set."""
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(db_file, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for candidate in (db_file, *(db_file.with_name(db_file.name + s) for s in SQLITE_SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(candidate.stat().st_mode) & 0o077:
                candidate.chmod(0o600)


def keyring_warnings(settings: Settings, key_file: Path | None) -> list[str]:
    """What an operator should fix about where the keyring lives (logged at start, never fatal).

    A key file itself open to group or others is refused outright when read (crypto.keyfile)."""
    if key_file is None or os.name != "posix":
        return []
    warnings = []
    if stat.S_IMODE(key_file.parent.stat().st_mode) & 0o077:
        warnings.append(f"the folder of key file {key_file} is open to group or others; chmod 700 it")
    if settings.database_url is None and key_file.resolve().parent == settings.data_dir.resolve():
        warnings.append("the key file sits next to the database: whoever copies the data dir gets both; keep "
                        "it elsewhere (FACEKYC_KEYRING_FILE on a mounted secret, or FACEKYC_MASTER_KEY)")
    return warnings
