"""Alembic migrations build exactly the schema the models describe, idempotently, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text

from facekyc.storage import migrate
from facekyc.storage.models import AuditHead, Base


def test_upgrade_creates_the_model_schema_and_is_idempotent(empty_db: Engine) -> None:
    assert migrate.current_revision(empty_db) is None
    migrate.upgrade(empty_db)
    migrate.upgrade(empty_db)
    assert migrate.current_revision(empty_db) == migrate.head_revision()
    assert set(Base.metadata.tables) <= set(inspect(empty_db).get_table_names())
    with empty_db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], diff
        head = conn.execute(select(AuditHead.seq, AuditHead.hash)).one()
    assert head == (0, "0" * 64)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(empty_db: Engine) -> None:
    if empty_db.dialect.name != "sqlite":
        return
    with empty_db.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
