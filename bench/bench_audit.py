"""Audit chain benchmark: cost of the keyed chain (HMAC-SHA256) against the unkeyed SHA-256 it replaced.

    python bench/bench_audit.py [--entries 20000] [--batch 200]

Writes the same entries twice into fresh SQLite databases under a temp dir: once through
`audit.append` (keyed), once as the pre-0002 plain SHA-256 rows, then times `audit.verify` on each
(same walk, only the digest differs) and the signing + checking of a checkpoint.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, update

from facekyc.crypto import LocalKeyring
from facekyc.registry import audit
from facekyc.storage import migrate
from facekyc.storage.db import make_engine, make_sessionmaker, transaction
from facekyc.storage.models import AuditEntry, AuditHead


def fill_keyed(sessions: object, entries: int, batch: int) -> float:
    t0 = time.perf_counter()
    for start in range(0, entries, batch):
        with transaction(sessions) as session:  # type: ignore[arg-type]
            for i in range(start, min(entries, start + batch)):
                audit.append(session, actor="apikey:key_bench", action="registration.decided", target=f"reg_{i}",
                             details={"decision": "approved", "scores": {"document_vs_live": 12.3}, "i": i})
    return time.perf_counter() - t0


def to_plain(sessions: object) -> None:
    """Rewrite the same rows as legacy entries (key_id NULL, plain SHA-256), as an 0001 chain had them."""
    with transaction(sessions) as session:  # type: ignore[arg-type]
        prev = audit.GENESIS
        rows = list(session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())
        for row in rows:
            row.prev_hash, row.key_id = prev, None
            row.hash = prev = audit.entry_hash(row.seq, row.at, row.actor, row.action, row.target, row.details, prev)
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))


def timed_verify(sessions: object) -> tuple[float, audit.AuditReport]:
    with sessions() as session:  # type: ignore[operator]
        t0 = time.perf_counter()
        report = audit.verify(session)
        return time.perf_counter() - t0, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ring = LocalKeyring.load_or_create(Path(tmp) / "keyring.json")
        runs = {}
        for name in ("keyed", "plain"):
            engine = make_engine(f"sqlite:///{Path(tmp) / name}.sqlite3")
            migrate.upgrade(engine)
            sessions = make_sessionmaker(engine, info=audit.bind_keys({}, ring))
            append_s = fill_keyed(sessions, args.entries, args.batch)
            if name == "plain":
                ring.assume_audit_legacy_until(args.entries)
                to_plain(sessions)
            verify_s, report = timed_verify(sessions)
            assert report.ok and report.entries == args.entries, report
            runs[name] = (append_s, verify_s, sessions)
        with runs["keyed"][2]() as session:
            t0 = time.perf_counter()
            checkpoint = audit.make_checkpoint(session)
            sign_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            assert audit.verify(session, checkpoint).ok
            check_s = time.perf_counter() - t0
    n = args.entries
    print(f"{n} entries, SQLite, {args.batch} appends per transaction")
    print(f"append (keyed HMAC)       {n / runs['keyed'][0]:9.0f} entries/s")
    for name in ("keyed", "plain"):
        print(f"verify {name:<6}             {n / runs[name][1]:9.0f} entries/s  ({runs[name][1]:.2f} s)")
    print(f"verify keyed / plain time  {runs['keyed'][1] / runs['plain'][1]:.2f}x")
    print(f"checkpoint: sign (incl. full verify) {sign_s:.2f} s, verify with checkpoint {check_s:.2f} s")


if __name__ == "__main__":
    main()
