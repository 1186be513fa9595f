"""Relative image paths in a list are read from the list's folder (or --root), never the current directory."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facekyc.cli import app
from facekyc.evaluation.report import load_pairs


def test_csv_pairs_are_read_from_the_csv_folder_or_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "pairs.csv").write_text("a,b,same\nimg/x.jpg,/abs/y.jpg,1\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    relative_csv = Path("../lists/pairs.csv")
    [pair] = load_pairs(relative_csv, None, "csv")
    assert pair.a == lists / "img" / "x.jpg" and pair.b == Path("/abs/y.jpg")
    [pair] = load_pairs(relative_csv, Path("../images"), "csv")
    assert pair.a == tmp_path / "images" / "img" / "x.jpg" and pair.b == Path("/abs/y.jpg")


def test_score_pairs_reads_relative_paths_from_the_csv_folder_and_says_so(
        tmp_path: Path, lfw_images: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lists = tmp_path / "lists"
    (lists / "img").mkdir(parents=True)
    for name in ("Colin_Powell_0038.jpg", "Colin_Powell_0074.jpg"):
        shutil.copy(lfw_images / "Colin_Powell" / name, lists / "img" / name)
    (lists / "pairs.csv").write_text("a,b\nimg/Colin_Powell_0038.jpg,img/Colin_Powell_0074.jpg\n"
                                     "img/Colin_Powell_0038.jpg,img/missing.jpg\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the list's folder: img/ is not here
    result = CliRunner().invoke(app, ["score-pairs", "lists/pairs.csv", "--out", "scores.csv", "--workers", "1",
                                      "--models", "sface"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    with (tmp_path / "scores.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["decision"] == "match" and rows[0]["error"] == ""
    assert rows[1]["error"] == "file_not_found"
    assert f"1 image(s) not found, e.g. {lists / 'img' / 'missing.jpg'}" in result.stderr
    assert f"read from its folder, {lists}" in result.stderr
