"""The face-index event log: every template added and every subscriber removed, in one monotonic sequence.

Why it is correct across processes: a writer takes the next number by updating the single
`index_sequence` row, which it keeps locked until its transaction ends (PostgreSQL row lock; SQLite
has one writer at a time anyway). So numbers are handed out, and made visible, in commit order: a
reader that has seen event n has seen every event before n, and each process catches up by
"events after my cursor". The same lock serialises the end of every dedup decision (see
`facekyc.registry.index_feed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from facekyc.storage.models import IndexApplied, IndexEvent, IndexSequence

EventKind = Literal["add", "remove"]


@dataclass(frozen=True)
class Event:
    seq: int
    subscriber_id: int
    kind: str


def claim(session: Session) -> int:
    """Lock the sequence row until this transaction ends and take the next number."""
    seq = session.execute(update(IndexSequence).where(IndexSequence.id == 1)
                          .values(last_seq=IndexSequence.last_seq + 1).returning(IndexSequence.last_seq)
                          ).scalar_one()
    return int(seq)


def append(session: Session, subscriber_id: int, kind: EventKind) -> int:
    """Record one index change inside the caller's transaction (which then holds the sequence lock)."""
    seq = claim(session)
    session.add(IndexEvent(seq=seq, subscriber_id=subscriber_id, kind=kind))
    session.flush()
    return seq


def head(session: Session) -> int:
    """The newest committed event number (0 when there is none)."""
    return int(session.execute(select(func.coalesce(func.max(IndexEvent.seq), 0))).scalar_one())


def after(session: Session, cursor: int, limit: int = 10_000) -> list[Event]:
    """Events newer than `cursor`, oldest first."""
    rows = session.execute(select(IndexEvent.seq, IndexEvent.subscriber_id, IndexEvent.kind)
                           .where(IndexEvent.seq > cursor).order_by(IndexEvent.seq).limit(limit))
    return [Event(int(s), int(i), str(k)) for s, i, k in rows]


def transform_version(session: Session) -> int:
    """Which keyed vector transform the external index currently holds (see crypto.transform)."""
    return int(session.execute(select(IndexSequence.transform_version).where(IndexSequence.id == 1)).scalar_one())


def set_transform_version(session: Session, version: int) -> None:
    session.execute(update(IndexSequence).where(IndexSequence.id == 1).values(transform_version=version))


def applied(session: Session, name: str) -> int | None:
    """How far the shared index `name` has applied the log, locking its row until the transaction ends."""
    seq = session.execute(select(IndexApplied.seq).where(IndexApplied.name == name).with_for_update()).scalar()
    return None if seq is None else int(seq)


def set_applied(session: Session, name: str, seq: int) -> None:
    row = session.get(IndexApplied, name)
    if row is None:
        session.add(IndexApplied(name=name, seq=seq))
    else:
        row.seq = seq
    session.flush()
