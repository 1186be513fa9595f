"""Issue 9, finding 5: the audit chain is keyed (HMAC, key in the keyring) and checkpoints are signed, so
re-hashing an edited row with plain SHA-256, or deleting the newest rows and fixing `audit_head`, is caught."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from facekyc.registry import audit
from facekyc.storage.db import transaction
from facekyc.storage.models import AuditEntry, AuditHead


def _fill(registry: Any, n: int) -> None:
    for i in range(n):
        with transaction(registry.sessions) as session:
            audit.append(session, actor="test", action="thing.done", target=f"t{i}", details={"i": i, "ok": True})


def _verify(registry: Any, checkpoint: dict[str, Any] | None = None) -> audit.AuditReport:
    with registry.sessions() as session:
        return audit.verify(session, checkpoint)


def _rows(registry: Any) -> list[AuditEntry]:
    with registry.sessions() as session:
        return list(session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def _rehash_plain(registry: Any, from_seq: int, *, keep_key_id: bool) -> None:
    """What an attacker with database access but no keyring can do: recompute the public SHA-256 chain."""
    rows = _rows(registry)
    prev = rows[from_seq - 2].hash if from_seq > 1 else audit.GENESIS
    with transaction(registry.sessions) as s:
        for row in rows[from_seq - 1:]:
            digest = audit.entry_hash(row.seq, row.at, row.actor, row.action, row.target, row.details, prev)
            values: dict[str, Any] = {"prev_hash": prev, "hash": digest}
            if not keep_key_id:
                values["key_id"] = None
            s.execute(update(AuditEntry).where(AuditEntry.seq == row.seq).values(**values))
            prev = digest
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))


def test_edited_row_with_recomputed_plain_hashes_is_detected(make_registry: Callable[..., Any]) -> None:
    registry = make_registry()
    _fill(registry, 6)
    assert all(r.key_id == registry.keyring.audit_key_id for r in _rows(registry))
    assert _verify(registry).ok
    with transaction(registry.sessions) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(details='{"i":2,"ok":false}'))
    _rehash_plain(registry, 3, keep_key_id=True)
    report = _verify(registry)
    assert not report.ok and report.first_bad_seq == 3 and "edited" in (report.problem or "")
    # passing the rewritten rows off as pre-0002 unkeyed entries does not work either
    _rehash_plain(registry, 3, keep_key_id=False)
    report = _verify(registry)
    assert not report.ok and report.first_bad_seq == 3 and "unkeyed" in (report.problem or "")


def test_truncation_is_detected_against_an_exported_checkpoint(make_registry: Callable[..., Any]) -> None:
    registry = make_registry()
    _fill(registry, 5)
    with registry.sessions() as session:
        checkpoint = audit.make_checkpoint(session)
    assert checkpoint["seq"] == 5 and _verify(registry, checkpoint).ok
    _fill(registry, 2)  # later entries are fine: the checkpoint pins a prefix
    assert _verify(registry, checkpoint).ok

    # delete the newest 3 rows (one before the checkpoint) and fix the head: the chain alone still looks whole
    rows = _rows(registry)
    with transaction(registry.sessions) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq > 4))
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=4, hash=rows[3].hash))
    assert _verify(registry).ok
    report = _verify(registry, checkpoint)
    assert not report.ok and "truncated" in (report.problem or "") and report.checkpoint_seq == 5

    forged = {**checkpoint, "seq": 4, "hash": rows[3].hash}  # moving the checkpoint breaks its signature
    assert "signature" in (_verify(registry, forged).problem or "")


def test_checkpoint_from_another_ring_or_of_a_rewritten_chain_is_refused(make_registry: Callable[..., Any]) -> None:
    first, second = make_registry(), make_registry()
    _fill(first, 3)
    _fill(second, 3)
    with second.sessions() as session:
        foreign = audit.make_checkpoint(session)
    assert "another key ring" in (_verify(first, foreign).problem or "")
    with transaction(first.sessions) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="someone else"))
    with first.sessions() as session:
        try:
            audit.make_checkpoint(session)
        except ValueError as exc:
            assert "does not verify" in str(exc)
        else:
            raise AssertionError("a broken chain was signed")


def test_rotated_audit_key_keeps_old_entries_verifiable(make_registry: Callable[..., Any]) -> None:
    registry = make_registry()
    _fill(registry, 2)
    old = registry.keyring.audit_key_id
    new = registry.keyring.add_audit_key()
    assert new != old and registry.keyring.audit_key_id == new
    _fill(registry, 2)
    assert [r.key_id for r in _rows(registry)][-4:] == [old, old, new, new]
    assert _verify(registry).ok
    # rotating and retiring master keys leaves the audit keys (and the signing key) alone
    with registry.sessions() as session:
        before = audit.make_checkpoint(session)
    first_master = registry.keyring.key_id
    registry.keyring.add_key()
    registry.keyring.retire_key(first_master)
    _fill(registry, 1)
    assert _verify(registry, before).ok and registry.keyring.audit_key_id == new


def test_cli_checkpoint_then_verify_detects_truncation(make_registry: Callable[..., Any], backend: str,
                                                      monkeypatch: Any, tmp_path: Path) -> None:
    if backend != "sqlite":
        return  # the CLI reads FACEKYC_* settings; the same code path is covered above on PostgreSQL
    from facekyc.cli import app

    registry = make_registry()
    _fill(registry, 4)
    monkeypatch.setenv("FACEKYC_DATA_DIR", str(registry.settings.data_dir))
    runner, out = CliRunner(), tmp_path / "checkpoint.json"
    made = runner.invoke(app, ["audit", "checkpoint", "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert json.loads(out.read_text())["seq"] == 4
    ok = runner.invoke(app, ["audit", "verify", "--checkpoint", str(out)])
    assert ok.exit_code == 0 and '"ok": true' in ok.output, ok.output
    rows = _rows(registry)
    with transaction(registry.sessions) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 4))
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=3, hash=rows[2].hash))
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0  # without the checkpoint it cannot know
    caught = runner.invoke(app, ["audit", "verify", "--checkpoint", str(out)])
    assert caught.exit_code == 1 and "truncated" in caught.output, caught.output
