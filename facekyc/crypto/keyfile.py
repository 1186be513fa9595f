"""The JSON key file behind `LocalKeyring`: format, checks on read, atomic 0600 writes.

Format (version 1)::

    {"format": "facekyc-keyring", "version": 1, "current": "<key id>",
     "keys": [{"id": "<key id>", "created": "<iso time>", "key": "<base64 32 bytes>"}, ...],
     "index_key": "<base64 WrappedKey of the blind-index root, under the current key>",
     "audit": {"legacy_until": <int>, "current": "<audit key id>",
               "keys": [{"id": "<audit key id>", "created": "<iso time>", "key": "<base64 32 bytes>"}]}}

The "audit" member is optional: without it the first audit key is derived from the index root
(so a ring from FACEKYC_MASTER_KEY or a read-only mounted file has one too).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facekyc.crypto.wrapping import KEY_ID_PATTERN, WrappedKey, unwrap_with, wrap_with
from facekyc.errors import DecryptionFailed, KeyringError

MASTER_KEY_SIZE = 32
FILE_FORMAT = "facekyc-keyring"
FILE_VERSION = 1
_INDEX_ROOT_AAD = b"facekyc index root"

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class RingState:
    """One immutable snapshot of a ring, swapped whole so readers never see half an update."""

    keys: dict[str, bytes]
    created: dict[str, str]
    current: str
    index_root: bytes
    audit_keys: dict[str, bytes] = field(default_factory=dict)
    audit_current: str | None = None
    audit_legacy_until: int | None = None


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """Inode, mtime and size: enough to notice the file was replaced by another process."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the key file between processes (a lost key loses data)."""
    if fcntl is None:  # pragma: no cover - not POSIX
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_key_file(path: Path, state: RingState, *, exclusive: bool) -> None:
    """Write to a temp file (mkstemp: 0600) in the same directory, fsync, then rename into place.

    `exclusive` links instead of renaming, which never replaces an existing file: when two
    processes create the ring at once, the first one wins and the other reads its file.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_encode(state))
            handle.flush()
            os.fsync(handle.fileno())
        if not exclusive:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            except OSError:  # file systems without hard links: best effort
                if not path.exists():
                    os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def read_key_file(path: Path) -> RingState:
    """Parse and check the key file; messages name the problem, never key material."""
    try:
        st = path.stat()
        raw = path.read_bytes()
    except OSError as exc:
        raise KeyringError(f"cannot read key file {path}: {exc.strerror}") from None
    if os.name == "posix" and st.st_mode & 0o077:
        raise KeyringError(f"key file {path} is accessible by other users; chmod 600 it")
    try:
        document: Any = json.loads(raw)
        if document.get("format") != FILE_FORMAT or document.get("version") != FILE_VERSION:
            raise KeyringError(f"key file {path} has an unknown format or version")
        keys: dict[str, bytes] = {}
        created: dict[str, str] = {}
        for entry in document["keys"]:
            key_id = str(entry["id"])
            key = base64.b64decode(entry["key"], validate=True)
            if not KEY_ID_PATTERN.fullmatch(key_id) or len(key) != MASTER_KEY_SIZE or key_id in keys:
                raise KeyringError(f"key file {path} holds a malformed or duplicate key entry")
            keys[key_id] = key
            created[key_id] = str(entry.get("created", ""))
        current = str(document["current"])
        wrapped_root = WrappedKey.from_bytes(base64.b64decode(document["index_key"], validate=True))
        audit_keys, audit_current, legacy_until = _read_audit(document.get("audit"))
    except KeyringError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, DecryptionFailed):
        raise KeyringError(f"key file {path} is malformed") from None
    if current not in keys:
        raise KeyringError(f"key file {path}: current key is missing")
    root_master = keys.get(wrapped_root.key_id)
    if root_master is None:
        raise KeyringError(f"key file {path}: the key wrapping the index key is missing")
    try:
        index_root = unwrap_with(root_master, wrapped_root, _INDEX_ROOT_AAD)
    except DecryptionFailed:
        raise KeyringError(f"key file {path}: the index key does not decrypt") from None
    return RingState(keys=keys, created=created, current=current, index_root=index_root,
                     audit_keys=audit_keys, audit_current=audit_current, audit_legacy_until=legacy_until)


def _read_audit(section: Any) -> tuple[dict[str, bytes], str | None, int | None]:
    """The optional audit section: rotated audit keys and where the unkeyed (legacy) chain ends."""
    if section is None:
        return {}, None, None
    keys: dict[str, bytes] = {}
    for entry in section.get("keys", []):
        key = base64.b64decode(entry["key"], validate=True)
        if not KEY_ID_PATTERN.fullmatch(str(entry["id"])) or len(key) != MASTER_KEY_SIZE:
            raise ValueError("malformed audit key")
        keys[str(entry["id"])] = key
    current = section.get("current")
    if current is not None and current not in keys:
        raise ValueError("unknown current audit key")
    legacy = section.get("legacy_until")
    if legacy is not None and (not isinstance(legacy, int) or legacy < 0):
        raise ValueError("malformed legacy_until")
    return keys, (str(current) if current is not None else None), legacy


def _encode(state: RingState) -> bytes:
    """The index root is re-wrapped under the current key on every write, so rotation moves it."""
    wrapped_root = wrap_with(state.keys[state.current], state.current, state.index_root, _INDEX_ROOT_AAD)
    document = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "current": state.current,
        "keys": [
            {"id": key_id, "created": state.created.get(key_id, ""), "key": base64.b64encode(key).decode()}
            for key_id, key in state.keys.items()
        ],
        "index_key": base64.b64encode(wrapped_root.to_bytes()).decode(),
    }
    if state.audit_keys or state.audit_current or state.audit_legacy_until is not None:
        document["audit"] = {
            "legacy_until": state.audit_legacy_until, "current": state.audit_current,
            "keys": [{"id": k, "key": base64.b64encode(v).decode()} for k, v in state.audit_keys.items()],
        }
    return (json.dumps(document, indent=2) + "\n").encode()


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
