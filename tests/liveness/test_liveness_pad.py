"""Passive scorer on nuaa-dev (print attacks) and the liveness CLI commands."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facekyc.cli import app
from facekyc.evaluation import summarise_pad
from facekyc.vision.liveness.pad_eval import score_image
from facekyc.vision.liveness.passive import CueScorer


@pytest.fixture(scope="module")
def nuaa(test_data: Path) -> Path:
    path = test_data / "nuaa-dev" / "labels.csv"
    if not path.is_file():
        pytest.skip(f"nuaa-dev not found under {path.parent}")
    return path


def test_passive_scorer_beats_chance_on_nuaa(engine, nuaa) -> None:  # type: ignore[no-untyped-def]
    with nuaa.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[::2]  # 200 live + 200 print
    scorer = CueScorer()
    scores = [score_image(engine, scorer, nuaa.parent / r["path"]).score for r in rows]
    summary = summarise_pad(scores, [r["label"] for r in rows], scorer.threshold)
    assert summary.n_failed <= 0.05 * len(rows)
    assert summary.eer < 0.40
    assert summary.apcer_by_type["print"] < 0.5 and summary.bpcer < 0.2


def test_score_and_eval_pad_cli(nuaa, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with nuaa.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[::40]  # 10 live + 10 print: fast
    listing = tmp_path / "list.csv"
    with listing.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label"])
        writer.writeheader()
        writer.writerows({"path": str(nuaa.parent / r["path"]), "label": r["label"]} for r in rows)
        writer.writerow({"path": "missing.jpg", "label": "live"})
    runner = CliRunner()
    out = tmp_path / "scores.csv"
    res = runner.invoke(app, ["score-liveness", "--list", str(listing), "--out", str(out)])
    assert res.exit_code == 0, res.output
    with out.open(newline="", encoding="utf-8") as handle:
        scored = list(csv.DictReader(handle))
    assert scored[-1]["error"] == "file_not_found" and scored[-1]["score"] == ""
    assert all(r["decision"] in ("live", "attack") and math.isfinite(float(r["score"])) for r in scored[:-1])
    report = tmp_path / "report"
    res = runner.invoke(app, ["eval", "pad", "--labels", str(listing), "--report", str(report)])
    assert res.exit_code == 0, res.output
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["apcer_by_type"]) == {"print"} and summary["n_failed"] == 1
    assert (report / "det.png").stat().st_size > 1000 and (report / "scores.csv").is_file()


def test_check_liveness_cli(liveness_dir) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    video = str(liveness_dir / "real_turns.mp4")
    res = runner.invoke(app, ["check-liveness", video, "--challenge", "turn_left,turn_right", "--from", "1.5",
                              "--to", "11", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["decision"] == "live"
    res = runner.invoke(app, ["check-liveness", video, "--challenge", "turn_right,turn_left", "--from", "1.5",
                              "--to", "11", "--json"])
    assert res.exit_code == 1 and json.loads(res.output)["reasons"] == ["wrong_order"]
    res = runner.invoke(app, ["check-liveness", video, "--challenge", "wave"])
    assert res.exit_code == 2
