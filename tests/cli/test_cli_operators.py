"""`facekyc operators` / `facekyc numbers` against a real SQLite database under FACEKYC_DATA_DIR."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from facekyc.cli import app


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("FACEKYC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FACEKYC_DATABASE_URL", raising=False)
    return CliRunner()


def _pool(data_dir: Path) -> dict[str, str]:
    from facekyc.config import Settings
    from facekyc.registry.service import open_database
    from facekyc.storage.db import make_sessionmaker
    from facekyc.storage.models import AuditEntry, PhoneNumber

    sessions = make_sessionmaker(open_database(Settings(data_dir=data_dir)))
    with sessions() as session:
        actions = [a for a, in session.execute(select(AuditEntry.action).order_by(AuditEntry.seq))]
        pool = {n.msisdn: n.operator_id for n in session.execute(select(PhoneNumber)).scalars()}
    return {"actions": ",".join(actions), **pool}


def test_operator_and_numbers_setup_without_curl(runner: CliRunner, tmp_path: Path) -> None:
    added = runner.invoke(app, ["operators", "add", "op", "--name", "Example Mobile", "--country", "cn"])
    assert added.exit_code == 0, added.output
    again = runner.invoke(app, ["operators", "add", "op", "--name", "Other", "--country", "CN"])
    assert again.exit_code == 2 and "operator_exists" in again.output
    bad_id = runner.invoke(app, ["operators", "add", "Op!", "--name", "X", "--country", "CN"])
    assert bad_id.exit_code == 2 and "operator_id_invalid" in bad_id.output

    listing = tmp_path / "numbers.txt"
    listing.write_text("# first batch\n13900000003\n\n+86 139 0000 0001\n", encoding="utf-8")
    first = runner.invoke(app, ["numbers", "add", "op", "13900000001", "13900000002", "--file", str(listing)])
    assert first.exit_code == 0, first.output
    assert "added 3 number(s) to op; 1 already present" in first.output

    refused = runner.invoke(app, ["numbers", "add", "op", "13900000004", "12345"])
    assert refused.exit_code == 2 and "msisdn_invalid" in refused.output and "12345" in refused.output
    unknown = runner.invoke(app, ["numbers", "add", "nope", "13900000004"])
    assert unknown.exit_code == 2 and "operator_not_found" in unknown.output
    assert runner.invoke(app, ["numbers", "add", "op"]).exit_code == 2

    pool = _pool(tmp_path / "data")
    assert pool.pop("actions") == "operator.created,numbers.added"  # the refused batches wrote nothing
    assert pool == {"+8613900000001": "op", "+8613900000002": "op", "+8613900000003": "op"}

    ops = runner.invoke(app, ["operators", "list"], env={"COLUMNS": "200"})
    assert ops.exit_code == 0
    row = next(line for line in ops.output.splitlines() if " op " in line)
    assert "Example Mobile" in row and "CN" in row and "3" in row.split()
    numbers = runner.invoke(app, ["numbers", "list", "op", "--status", "free"], env={"COLUMNS": "200"})
    assert numbers.exit_code == 0 and "+8613900000002" in numbers.output and "3 number(s)" in numbers.output
    assert "0 number(s)" in runner.invoke(app, ["numbers", "list", "op", "--status", "assigned"]).output
    assert runner.invoke(app, ["numbers", "list", "nope"]).exit_code == 2


def test_operators_list_when_empty_says_what_to_do(runner: CliRunner) -> None:
    result = runner.invoke(app, ["operators", "list"])
    assert result.exit_code == 0 and "facekyc operators add" in result.output
