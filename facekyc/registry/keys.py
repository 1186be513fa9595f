"""Master-key rotation over the database: new key, re-wrap every row's data key, optionally retire old keys.

Servers keep running: they read the key file again when it changes, and old keys still unwrap
until every row has moved.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facekyc.crypto import LocalKeyring, WrappedKey, data_key_aad, needs_rewrap, rewrap
from facekyc.storage.db import transaction, with_retry
from facekyc.storage.models import CaptureSession, Registration, RetainedImage, Subscriber

# table -> (model, primary key column, wrapped-key column, how the AAD owner string is made)
_TABLES: dict[str, tuple[Any, Any, Any, Any]] = {
    "subscribers": (Subscriber, Subscriber.id, Subscriber.wrapped_key, lambda r: r.ref),
    "registrations": (Registration, Registration.id, Registration.wrapped_key, lambda r: f"registration:{r.id}"),
    "capture_sessions": (CaptureSession, CaptureSession.id, CaptureSession.wrapped_key,
                         lambda r: f"capture:{r.id}"),
    "retained_images": (RetainedImage, RetainedImage.id, RetainedImage.wrapped_key, lambda r: f"retained:{r.id}"),
}
BATCH = 200


@dataclass(frozen=True)
class RotationReport:
    new_key: str | None
    rewrapped: int
    retired: list[str]
    remaining: dict[str, int]


def key_usage(sessionmaker: Any) -> dict[str, int]:
    """How many wrapped data keys each master key id protects."""
    counts: Counter[str] = Counter()
    with sessionmaker() as session:
        for _model, _pk, column, _owner in _TABLES.values():
            for (blob,) in session.execute(select(column).where(column.is_not(None))):
                counts[WrappedKey.from_bytes(blob).key_id] += 1
    return dict(counts)


def rewrap_all(sessionmaker: Any, keyring: LocalKeyring) -> int:
    """Move every wrapped data key to the current master key, in small transactions."""
    total = 0
    for table in _TABLES.values():
        last: Any = None
        while True:
            def batch(after: Any = last, spec: tuple[Any, Any, Any, Any] = table) -> tuple[int, Any]:
                with transaction(sessionmaker) as session:
                    return _rewrap_batch(session, keyring, *spec, after)
            moved, last = with_retry(batch)
            total += moved
            if last is None:
                break
    return total


def _rewrap_batch(session: Session, keyring: LocalKeyring, model: Any, pk: Any, column: Any, owner: Any,
                  after: Any) -> tuple[int, Any]:
    query = select(model).where(column.is_not(None)).order_by(pk).limit(BATCH)
    if after is not None:
        query = query.where(pk > after)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.execute(query).scalars())
    moved = 0
    for row in rows:
        wrapped = WrappedKey.from_bytes(row.wrapped_key)
        if needs_rewrap(wrapped, keyring):
            row.wrapped_key = rewrap(wrapped, keyring, data_key_aad(owner(row))).to_bytes()
            moved += 1
    return moved, (getattr(row, pk.key) if rows and len(rows) == BATCH else None)


def rotate(sessionmaker: Any, keyring: LocalKeyring, *, retire: bool = False) -> RotationReport:
    """add_key, re-wrap all rows, then (if asked) retire old keys that no row names any more."""
    new_key = keyring.add_key()
    moved = rewrap_all(sessionmaker, keyring)
    usage = key_usage(sessionmaker)
    retired: list[str] = []
    if retire:
        for key_id in keyring.key_ids:
            if key_id != keyring.key_id and usage.get(key_id, 0) == 0:
                keyring.retire_key(key_id)
                retired.append(key_id)
    return RotationReport(new_key, moved, retired, usage)
