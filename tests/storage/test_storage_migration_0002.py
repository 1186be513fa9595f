"""Migration 0002 on an 0001 database holding data: keys get their scope, the old unkeyed audit chain stays
verifiable up to where the keyring pins it, and new entries are keyed (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select, update

from facekyc.crypto import LocalKeyring
from facekyc.registry import apikeys, audit
from facekyc.registry.errors import Forbidden
from facekyc.storage import migrate
from facekyc.storage.db import make_sessionmaker, transaction
from facekyc.storage.models import ApiKey, AuditEntry, AuditHead, Operator


def _old_rows(engine: Engine) -> str:
    """Write what an 0001 deployment holds: keys of each role and a plain SHA-256 chain of 3 entries."""
    now = datetime.now(UTC)
    prev = audit.GENESIS
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO operators (id, name, country, created_at) VALUES ('op', 'Op', 'CN', "
                             f"'{now.isoformat()}')")
        for role in ("clerk", "reviewer", "auditor", "admin"):
            conn.exec_driver_sql(f"INSERT INTO api_keys (id, name, role, token_hash, created_at) VALUES "
                                 f"('key_{role}', '{role}', '{role}', '{role:0<64}', '{now.isoformat()}')")
        for seq in (1, 2, 3):
            at, details = now.isoformat(), f'{{"n":{seq}}}'
            digest = audit.entry_hash(seq, at, "cli", "apikey.created", f"key_{seq}", details, prev)
            conn.exec_driver_sql(
                "INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) VALUES "
                f"({seq}, '{at}', 'cli', 'apikey.created', 'key_{seq}', '{details}', '{prev}', '{digest}')")
            prev = digest
        conn.exec_driver_sql(f"UPDATE audit_head SET seq = 3, hash = '{prev}' WHERE id = 1")
    return prev


def test_upgrade_from_0001_with_data(empty_db: Engine, tmp_path: Path) -> None:
    migrate.upgrade(empty_db, "0001")
    _old_rows(empty_db)
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == migrate.head_revision()
    assert {"operator_id", "store", "scope_global"} <= {c["name"] for c in inspect(empty_db).get_columns("api_keys")}

    ring = LocalKeyring.load_or_create(tmp_path / "keyring.json")
    sessions = make_sessionmaker(empty_db, info=audit.bind_keys({}, ring))
    with sessions() as session:
        keys = {k.role: k for k in session.execute(select(ApiKey)).scalars()}
        # reviewers, auditors and admins keep seeing everything; the old clerk key may act for no operator
        assert [keys[r].scope_global for r in ("clerk", "reviewer", "auditor", "admin")] == [False, True, True, True]
        with pytest.raises(Forbidden) as refused:
            apikeys.scope_of(keys["clerk"])
        assert refused.value.code == "key_not_scoped"
        assert apikeys.scope_of(keys["auditor"]).is_global
        audit.record_legacy_cutoff(session, ring)
    assert ring.audit_legacy_until == 3
    with transaction(sessions) as session:
        key = apikeys.assign_operator(session, "key_clerk", "op", "Store 1")
        assert apikeys.scope_of(key).operator_id == "op" and session.get(Operator, "op") is not None
        audit.append(session, actor="cli", action="apikey.assigned", target="key_clerk", details={"operator": "op"})
    with sessions() as session:
        report = audit.verify(session)
        assert report.ok and report.entries == 4 and report.legacy_entries == 3, report
        assert session.get(AuditEntry, 4).key_id == ring.audit_key_id  # type: ignore[union-attr]

    # an old (unkeyed) entry edited and re-hashed: the whole plain chain recomputed still breaks at the keyed one
    with transaction(sessions) as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(details='{"n":20}'))
        prev = session.get(AuditEntry, 1).hash  # type: ignore[union-attr]
        for seq in (2, 3):
            row = session.get(AuditEntry, seq)
            assert row is not None
            row.prev_hash = prev
            row.hash = prev = audit.entry_hash(seq, row.at, row.actor, row.action, row.target, row.details, prev)
    with sessions() as session:
        report = audit.verify(session)
        assert not report.ok and report.first_bad_seq == 4, report
        head = session.get(AuditHead, 1)
        assert head is not None and head.seq == 4


def test_ring_that_cannot_record_the_cutoff_takes_it_from_settings(empty_db: Engine) -> None:
    import base64
    import secrets

    from facekyc.config import Settings
    from facekyc.crypto import keyring_from_settings

    migrate.upgrade(empty_db, "0001")
    _old_rows(empty_db)
    migrate.upgrade(empty_db)
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    bare = keyring_from_settings(Settings(master_key=master))
    with make_sessionmaker(empty_db, info=audit.bind_keys({}, bare))() as session:
        assert audit.record_legacy_cutoff(session, bare) == 3  # an env ring cannot write: reported, not raised
        report = audit.verify(session)
        assert not report.ok and report.first_bad_seq == 1 and "unkeyed" in (report.problem or "")
    told = keyring_from_settings(Settings(master_key=master, audit_legacy_until=3))
    with make_sessionmaker(empty_db, info=audit.bind_keys({}, told))() as session:
        assert audit.verify(session).ok
