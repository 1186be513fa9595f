"""`facekyc apikeys create/assign`: clerk keys need an operator, reviewer/auditor keys a scope, and the
choice is in the audit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from facekyc.registry import apikeys
from facekyc.storage.db import transaction
from facekyc.storage.models import ApiKey, AuditEntry, Operator


def test_apikeys_cli_scopes(make_registry: Callable[..., Any], backend: str, monkeypatch: Any) -> None:
    if backend != "sqlite":
        return  # the CLI reads FACEKYC_* settings; the scope rules themselves run on both databases over HTTP
    from facekyc.cli import app

    registry = make_registry()
    with transaction(registry.sessions) as session:
        session.add(Operator(id="op", name="Op", country="CN"))
    monkeypatch.setenv("FACEKYC_DATA_DIR", str(registry.settings.data_dir))
    run = CliRunner().invoke
    refused = run(app, ["apikeys", "create", "--role", "clerk", "--name", "till"])
    assert refused.exit_code == 2 and "operator" in refused.output
    assert run(app, ["apikeys", "create", "--role", "reviewer", "--name", "r"]).exit_code == 2
    made = run(app, ["apikeys", "create", "--role", "clerk", "--name", "till", "--operator", "op", "--store", "S1"])
    assert made.exit_code == 0, made.output
    out = json.loads(made.output)
    assert out["operator"] == "op" and out["store"] == "S1" and out["global"] is False
    with registry.sessions() as session:
        key = session.get(ApiKey, out["id"])
        assert key is not None and apikeys.authenticate(session, out["token"]) is not None
        assert apikeys.scope_of(key).operator_id == "op"
        entry = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
        assert entry is not None and json.loads(entry.details)["store"] == "S1"

    with transaction(registry.sessions) as session:  # an 0001-era clerk key, then assigned by the admin
        old = session.get(ApiKey, out["id"])
        assert old is not None
        old.operator_id = None
    assigned = run(app, ["apikeys", "assign", out["id"], "--operator", "op"])
    assert assigned.exit_code == 0 and json.loads(assigned.output)["operator"] == "op", assigned.output
    assert run(app, ["audit", "verify"]).exit_code == 0
