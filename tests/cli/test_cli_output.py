"""What the CLI prints for a person: flags in --help, readable reports, progress in logs, quality limits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from facekyc.cli import app
from facekyc.evaluation.report import describe_verification


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf command's path (Typer builds on its own copy of Click, so duck typing)."""
    if hasattr(group, "commands"):
        return [p for name, sub in group.commands.items() for p in _commands(sub, (*path, name))]
    return [path]


def test_boolean_options_show_as_plain_flags_in_every_help() -> None:
    runner = CliRunner()
    commands = _commands(typer.main.get_command(app))
    assert ("compare",) in commands and ("operators", "add",) in commands and len(commands) > 15
    flags_seen = 0
    for path in [(), *commands]:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (path, result.output)
        assert "<bool>" not in result.output and "--no-" not in result.output, (path, result.output)
        assert "[default: False]" not in result.output, (path, result.output)
        flags_seen += len(re.findall(r"^\s+--(json|strict|retire)\s{2,}\S", result.output, re.M))
    assert flags_seen >= 4  # compare --json --strict, check-liveness --json, keys rotate --retire


def test_compare_quality_table_shows_each_limit_and_pass_or_fail(lfw_images: Path, tmp_path: Path) -> None:
    photo = lfw_images / "Colin_Powell" / "Colin_Powell_0038.jpg"
    dark = tmp_path / "dark.jpg"
    cv2.imwrite(str(dark), (cv2.imread(str(photo)) * 0.15).astype(np.uint8))
    result = CliRunner().invoke(app, ["compare", str(photo), str(dark)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    cells = [[c.strip() for c in re.split("[│┃]", line)[1:-1]] for line in result.output.splitlines()
             if len(re.findall("[│┃]", line)) == 5]
    rows = {c[0]: c[1:] for c in cells}
    assert rows["quality"] == ["limit", "Colin_Powell_0038.jpg", "dark.jpg"]
    limit, good, bad = rows["brightness"]
    assert limit.startswith(">=") and "grey" in limit
    assert good.endswith("✓ pass") and bad.endswith("✗ fail")
    assert float(bad.split()[0]) < float(limit.split()[1]) < float(good.split()[0])
    assert rows["face_size"][1].endswith("✓ pass") and rows["face_size"][2].endswith("✓ pass")
    assert rows["all"][1:] == ["pass", "fail (3)"]  # too dark: brightness, contrast and sharpness
    assert "hint" in result.output


@pytest.mark.slow
def test_eval_verification_prints_counts_and_what_small_lists_cannot_show(lfw_images: Path, tmp_path: Path) -> None:
    people = ["Colin_Powell", "Donald_Rumsfeld", "Jacques_Chirac", "Laura_Bush"]
    lines = ["a,b,same"]
    for k, p in enumerate(people):
        files = sorted((lfw_images / p).glob("*.jpg"))
        other = sorted((lfw_images / people[(k + 1) % 4]).glob("*.jpg"))
        lines += [f"{files[0]},{files[1]},1", f"{files[2]},{files[3]},1", f"{files[0]},{other[0]},0",
                  f"{files[1]},{other[1]},0"]
    (tmp_path / "pairs.csv").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["eval", "verification", "--pairs", str(tmp_path / "pairs.csv"), "--format",
                                      "csv", "--root", str(tmp_path), "--report", str(tmp_path / "r"),
                                      "--workers", "1"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    for raw in ("{", "n/a", "None", "nan", "1e-03="):
        assert raw not in out, (raw, out)
    assert "16 (8 genuine, 8 impostor)" in out
    assert "needs ≥ 100 impostor pairs (has 8)" in out and "needs ≥ 10,000 impostor pairs (has 8)" in out
    assert "realised FMR 0 (0 of 8 impostor pairs); checking 0.001 needs ≥ 1,000 impostor pairs" in out
    assert re.search(r"FNMR \d+\.\d\d% \(\d of 8 genuine pairs\)", out)
    assert "model sface" in out and "model dlib" in out
    progress = [line for line in result.stderr.splitlines() if line.startswith("analysing images:")]
    assert progress[0].startswith("analysing images: 0 of 16 (0%)") and "16 of 16 (100%)" in progress[-1]
    assert 5 <= len(progress) <= 12  # about one line per 10%, not one per image


def test_describe_verification_gives_rates_with_their_sample_sizes() -> None:
    per = {"genuine_scored": 500, "impostor_scored": 1_200_000}
    summary = {
        "pairs": 1000, "genuine_pairs": 500, "impostor_pairs": 500, "folds": 10, "images": 1500,
        "failed_images": 3, "fta_rate_images": 0.002, "accuracy": 0.991, "accuracy_std": 0.004, "eer": 0.012,
        "fnmr_at_fmr": {"1e-02": 0.004, "1e-03": 0.016, "1e-04": 0.05},
        "shipped_operating_point": {"fmr_target": 1e-3, "threshold": 0.8114, "fmr": 0.00105, "fnmr": 0.016,
                                    "false_matches": 1260, "impostor_pairs_scored": 1_200_000,
                                    "false_non_matches": 8, "genuine_pairs": 500},
        "per_model": {"sface": {"accuracy": 0.992, "eer": 0.011, "fnmr_at_fmr": {"1e-03": None},
                                "genuine_scored": 12, "impostor_scored": 900},
                      "fused": {"accuracy": 0.991, "eer": 0.012, "fnmr_at_fmr": {"1e-03": 0.016}, **per}},
    }
    rows = dict(describe_verification(summary))
    assert rows["images"] == "1,500 analysed, 3 failed to acquire (FTA 0.20%)"
    assert rows["accuracy, fused (10-fold)"].startswith("99.10% ± 0.40% over 1,000 pairs")
    assert rows["FNMR at FMR 1e-03, fused"] == "1.60% of 500 genuine pairs"
    shipped = rows["shipped threshold 0.8114 (FMR target 0.001)"]
    assert shipped == "realised FMR 1.05e-03 (1,260 of 1,200,000 impostor pairs); FNMR 1.60% (8 of 500 genuine pairs)"
    assert rows["model sface"] == ("accuracy 99.20%, EER 1.10%; FNMR at FMR 1e-03 needs ≥ 1,000 impostor pairs "
                                   "(has 900)")
