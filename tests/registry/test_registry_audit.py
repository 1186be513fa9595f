"""The audit chain: any edited, removed, reordered or truncated entry is detected (CLI exit code 1 too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from facekyc.registry import audit
from facekyc.storage.db import transaction
from facekyc.storage.models import AuditEntry, AuditHead


def _fill(registry: Any, n: int = 5) -> None:
    for i in range(n):
        with transaction(registry.sessions) as session:
            audit.append(session, actor="test", action="thing.done", target=f"t{i}", details={"i": i, "ok": True})


def _verify(registry: Any) -> audit.AuditReport:
    with registry.sessions() as session:
        return audit.verify(session)


def _row(registry: Any, seq: int) -> AuditEntry:
    with registry.sessions() as session:
        row = session.get(AuditEntry, seq)
        assert row is not None
        found: AuditEntry = row
        return found


def test_chain_detects_edit_removal_reorder_truncation(make_registry: Callable[..., Any]) -> None:
    registry = make_registry()
    _fill(registry)
    assert _verify(registry).ok and _verify(registry).entries == 5

    original = _row(registry, 3).details
    with transaction(registry.sessions) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(details='{"i":3,"ok":false}'))
    report = _verify(registry)
    assert not report.ok and report.first_bad_seq == 3 and "edited" in (report.problem or "")
    with transaction(registry.sessions) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(details=original))
    assert _verify(registry).ok

    # reorder: swap the contents of entries 2 and 4
    two, four = _row(registry, 2), _row(registry, 4)
    fields = ("at", "actor", "action", "target", "details", "prev_hash", "hash")
    with transaction(registry.sessions) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(**{f: getattr(four, f) for f in fields}))
        s.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(**{f: getattr(two, f) for f in fields}))
    assert not _verify(registry).ok
    with transaction(registry.sessions) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(**{f: getattr(two, f) for f in fields}))
        s.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(**{f: getattr(four, f) for f in fields}))
    assert _verify(registry).ok

    with transaction(registry.sessions) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    report = _verify(registry)
    assert not report.ok and report.first_bad_seq == 2


def test_truncated_tail_is_detected_and_cli_fails(make_registry: Callable[..., Any], backend: str,
                                                  monkeypatch: Any) -> None:
    registry = make_registry()
    _fill(registry, 3)
    with transaction(registry.sessions) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    assert not _verify(registry).ok
    with registry.sessions() as s:
        assert s.execute(select(AuditHead.seq)).scalar_one() == 3
    if backend == "sqlite":
        from facekyc.cli import app

        monkeypatch.setenv("FACEKYC_DATA_DIR", str(registry.settings.data_dir))
        result = CliRunner().invoke(app, ["audit", "verify"])
        assert result.exit_code == 1 and '"ok": false' in result.output
