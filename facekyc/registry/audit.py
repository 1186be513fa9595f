"""The append-only audit log: each entry's hash covers its content and the previous hash.

Entries hold ids, codes and scores only: never images, templates, names or document numbers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facekyc.storage.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8: the same entry always hashes the same."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(seq: int, at: str, actor: str, action: str, target: str | None, details: str, prev: str) -> str:
    body = {"seq": seq, "at": at, "actor": actor, "action": action, "target": target,
            "details": json.loads(details), "prev_hash": prev}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def append(session: Session, *, actor: str, action: str, target: str | None = None,
           details: dict[str, Any] | None = None) -> AuditEntry:
    """Add an entry inside the caller's transaction; the head row lock serialises appends."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    text = canonical_json(details or {})
    seq = head.seq + 1
    digest = entry_hash(seq, at, actor, action, target, text, head.hash)
    entry = AuditEntry(seq=seq, at=at, actor=actor, action=action, target=target, details=text,
                       prev_hash=head.hash, hash=digest)
    session.add(entry)
    head.seq, head.hash = seq, digest
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditReport:
    """Result of walking the chain: ok, how many entries, and the first problem found."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "first_bad_seq": self.first_bad_seq,
                "problem": self.problem}


def verify(session: Session, batch: int = 1000) -> AuditReport:
    """Recompute every hash in order; detects edited, removed, inserted, reordered or truncated entries."""
    prev, expected_seq, count, last = GENESIS, 1, 0, 0
    while True:
        rows = session.execute(select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq)
                               .limit(batch)).scalars().all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return AuditReport(False, count, expected_seq, "entry missing (sequence gap)")
            if row.prev_hash != prev:
                return AuditReport(False, count, row.seq, "chain broken (previous hash differs)")
            try:
                digest = entry_hash(row.seq, row.at, row.actor, row.action, row.target, row.details, row.prev_hash)
            except (ValueError, TypeError):
                return AuditReport(False, count, row.seq, "entry unreadable")
            if digest != row.hash:
                return AuditReport(False, count, row.seq, "entry edited (hash differs)")
            prev, expected_seq, count, last = row.hash, row.seq + 1, count + 1, row.seq
    head = session.get(AuditHead, 1)
    if head is None or head.seq != count or head.hash != prev:
        return AuditReport(False, count, count + 1 if head and head.seq > count else None,
                           "head does not match the last entry (entries removed at the end?)")
    return AuditReport(True, count)
