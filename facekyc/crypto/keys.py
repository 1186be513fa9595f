"""Master keys: the KMS-shaped `MasterKeyProvider` interface and `LocalKeyring`, a key file on disk.

Master keys only wrap (encrypt) per-subscriber data keys, never data, so rotating one means
re-wrapping small keys, not re-encrypting templates.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from facekyc.crypto.keyfile import (
    MASTER_KEY_SIZE,
    RingState,
    file_stamp,
    locked,
    read_key_file,
    write_key_file,
)
from facekyc.crypto.wrapping import WrappedKey, hkdf, unwrap_with, wrap_with
from facekyc.errors import KeyInUse, KeyNotFound, KeyringError

if TYPE_CHECKING:
    from facekyc.config import Settings

__all__ = ["KEYRING_FILE_NAME", "MASTER_KEY_SIZE", "LocalKeyring", "MasterKeyProvider", "WrappedKey",
           "keyring_from_settings"]

KEYRING_FILE_NAME = "keyring.json"
_INDEX_INFO = b"facekyc blind index v1"
_AUDIT_KEY_INFO = b"facekyc audit key v1"
_AUDIT_KEY_ID_INFO = b"facekyc audit key id v1"
_AUDIT_SIGNING_INFO = b"facekyc audit signing v1"


@runtime_checkable
class MasterKeyProvider(Protocol):
    """What a KMS must offer: wrap under the current key, unwrap under the key a blob names."""

    @property
    def key_id(self) -> str:
        """Id of the master key new wraps use."""
        ...

    def wrap(self, data_key: bytes, aad: bytes) -> WrappedKey:
        """Encrypt `data_key` under the current master key, bound to `aad`."""
        ...

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        """Decrypt with the master key `wrapped.key_id`; DecryptionFailed or KeyNotFound on failure."""
        ...


class LocalKeyring:
    """Master keys held locally: a JSON key file (mode 0600) or one key from FACEKYC_MASTER_KEY.

    A ring bound to a file re-reads it when it changes, so a `facekyc keys rotate` run by another
    process is picked up by running servers without a restart.
    """

    def __init__(self, state: RingState, path: Path | None = None) -> None:
        self._state = state
        self._path = path
        self._stamp = file_stamp(path) if path is not None else None
        self._lock = threading.RLock()
        self._legacy_override: int | None = None
        self._derived_cache: tuple[bytes, str, bytes] | None = None  # (index root, id, key): HKDF once

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str]) -> LocalKeyring:
        """Load the key file, or create it (0600, parent 0700) with one fresh key if it is absent."""
        target = Path(path)
        if not target.exists():
            key_id = _new_key_id()
            state = RingState(
                keys={key_id: secrets.token_bytes(MASTER_KEY_SIZE)},
                created={key_id: _now()},
                current=key_id,
                index_root=secrets.token_bytes(MASTER_KEY_SIZE),
            )
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_key_file(target, state, exclusive=True)
        return cls(read_key_file(target), target)

    @classmethod
    def from_base64(cls, b64: str) -> LocalKeyring:
        """A single-key ring from a base64 32-byte key (FACEKYC_MASTER_KEY); its id is derived from it."""
        text = b64.strip()
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            try:
                key = base64.urlsafe_b64decode(text)
            except (binascii.Error, ValueError):
                raise KeyringError("master key is not valid base64") from None
        if len(key) != MASTER_KEY_SIZE:
            raise KeyringError(f"master key must decode to {MASTER_KEY_SIZE} bytes")
        key_id = "env-" + hkdf(key, b"facekyc key id v1", 6).hex()
        state = RingState(
            keys={key_id: key},
            created={key_id: ""},
            current=key_id,
            # Derived, so the blind index survives restarts and a later save() to a key file.
            index_root=hkdf(key, b"facekyc index root v1"),
        )
        return cls(state)

    # --- MasterKeyProvider --------------------------------------------------------------------

    @property
    def key_id(self) -> str:
        """Id of the current master key (new wraps use it)."""
        self.refresh()
        return self._state.current

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every master key id the ring can still unwrap with, oldest first."""
        self.refresh()
        return tuple(self._state.keys)

    @property
    def path(self) -> Path | None:
        """The key file this ring is bound to, or None for a ring from the environment."""
        return self._path

    def wrap(self, data_key: bytes, aad: bytes) -> WrappedKey:
        """AES-256-GCM under the current master key with a random 96-bit nonce."""
        self.refresh()
        state = self._state
        return wrap_with(state.keys[state.current], state.current, data_key, aad)

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        """Decrypt with the master key the wrapped key names (re-reading the key file if unknown)."""
        key = self._state.keys.get(wrapped.key_id)
        if key is None:
            self.refresh(force=True)
            key = self._state.keys.get(wrapped.key_id)
        if key is None:
            raise KeyNotFound(f"master key {wrapped.key_id!r} is not in the key ring")
        return unwrap_with(key, wrapped, aad)

    # --- blind index --------------------------------------------------------------------------

    def index_key(self) -> bytes:
        """HMAC key for blind indexes: HKDF of a random root kept in the ring, stable across rotations."""
        self.refresh()
        return hkdf(self._state.index_root, _INDEX_INFO)

    # --- audit chain keys (never stored in the database) ---------------------------------------

    @property
    def audit_key_id(self) -> str:
        """Id of the HMAC key new audit entries use: the newest rotated one, else the derived one."""
        self.refresh()
        return self._state.audit_current or self._derived_audit()[0]

    def audit_key(self, key_id: str) -> bytes:
        """The HMAC-SHA256 key an audit entry names; KeyNotFound if the ring does not hold it."""
        self.refresh()
        derived_id, derived_key = self._derived_audit()
        if key_id == derived_id:
            return derived_key
        key = self._state.audit_keys.get(key_id)
        if key is None:
            self.refresh(force=True)
            key = self._state.audit_keys.get(key_id)
        if key is None:
            raise KeyNotFound(f"audit key {key_id!r} is not in the key ring")
        return key

    def add_audit_key(self) -> str:
        """Rotate the audit HMAC key; older ones stay so old entries remain verifiable."""
        with self._mutating() as state:
            key_id = "ak-" + _new_key_id()[3:]
            self._commit(replace(state, audit_keys={**state.audit_keys, key_id: secrets.token_bytes(MASTER_KEY_SIZE)},
                                 audit_current=key_id))
            return key_id

    @property
    def audit_legacy_until(self) -> int | None:
        """Last sequence number of the unkeyed (pre-0002) chain, recorded outside the database."""
        self.refresh()
        recorded = self._state.audit_legacy_until
        return recorded if recorded is not None else self._legacy_override

    def assume_audit_legacy_until(self, seq: int) -> None:
        """FACEKYC_AUDIT_LEGACY_UNTIL: the cutoff for a ring that cannot record one (env key, read-only file)."""
        self._legacy_override = seq

    def record_audit_legacy_until(self, seq: int) -> None:
        """Pin, once, where unkeyed entries end; later calls keep the first value."""
        with self._mutating() as state:
            if state.audit_legacy_until is None:
                self._commit(replace(state, audit_legacy_until=seq))

    def audit_signing_seed(self) -> bytes:
        """32-byte Ed25519 seed for checkpoints: HKDF of the index root, so it survives rotations."""
        self.refresh()
        return hkdf(self._state.index_root, _AUDIT_SIGNING_INFO)

    def _derived_audit(self) -> tuple[str, bytes]:
        """The first audit key and its id, derived from the index root (cached: HKDF per entry is slow)."""
        root = self._state.index_root
        cached = self._derived_cache
        if cached is None or cached[0] != root:
            cached = (root, "ak-" + hkdf(root, _AUDIT_KEY_ID_INFO, 6).hex(), hkdf(root, _AUDIT_KEY_INFO))
            self._derived_cache = cached
        return cached[1], cached[2]

    # --- rotation -----------------------------------------------------------------------------

    def add_key(self) -> str:
        """Add a fresh master key and make it current; older keys stay for unwrapping."""
        with self._mutating() as state:
            key_id = _new_key_id()
            self._commit(replace(
                state,
                keys={**state.keys, key_id: secrets.token_bytes(MASTER_KEY_SIZE)},
                created={**state.created, key_id: _now()},
                current=key_id,
            ))
            return key_id

    def retire_key(self, key_id: str) -> None:
        """Forget a master key; the caller checks first that nothing is still wrapped under it."""
        with self._mutating() as state:
            if key_id not in state.keys:
                raise KeyNotFound(f"master key {key_id!r} is not in the key ring")
            if key_id == state.current:
                raise KeyInUse(f"master key {key_id!r} is current; add a new key before retiring it")
            self._commit(replace(
                state,
                keys={k: v for k, v in state.keys.items() if k != key_id},
                created={k: v for k, v in state.created.items() if k != key_id},
            ))

    # --- persistence --------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the ring to a key file (atomically, 0600) and bind to it, e.g. to leave the env key."""
        target = Path(path)
        with self._lock:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with locked(target):
                write_key_file(target, self._state, exclusive=False)
            self._path = target
            self._stamp = file_stamp(target)

    def refresh(self, *, force: bool = False) -> None:
        """Re-read the key file if another process changed it (cheap: one stat)."""
        path = self._path
        if path is None:
            return
        stamp = file_stamp(path)
        if not force and stamp == self._stamp:
            return
        with self._lock:
            self._state = read_key_file(path)
            self._stamp = stamp

    @contextlib.contextmanager
    def _mutating(self) -> Iterator[RingState]:
        """Thread lock + key-file lock, then the freshly read state: no rotation is lost to a race."""
        if self._path is None:
            raise KeyringError("a ring from FACEKYC_MASTER_KEY cannot change; save() it to a key file first")
        with self._lock, locked(self._path):
            self.refresh(force=True)
            yield self._state

    def _commit(self, new: RingState) -> None:
        assert self._path is not None
        write_key_file(self._path, new, exclusive=False)
        self._state = new
        self._stamp = file_stamp(self._path)

    def __repr__(self) -> str:
        return f"LocalKeyring(current={self._state.current!r}, keys={len(self._state.keys)}, path={self._path})"


def keyring_from_settings(settings: Settings) -> LocalKeyring:
    """FACEKYC_MASTER_KEY if set, else FACEKYC_KEYRING_FILE, else the key file under the data dir
    (created on first use)."""
    if settings.master_key:
        ring = LocalKeyring.from_base64(settings.master_key)
    else:
        ring = LocalKeyring.load_or_create(settings.keyring_file or settings.data_dir / KEYRING_FILE_NAME)
    if settings.audit_legacy_until is not None:
        ring.assume_audit_legacy_until(settings.audit_legacy_until)
    return ring


def _new_key_id() -> str:
    return f"mk-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
