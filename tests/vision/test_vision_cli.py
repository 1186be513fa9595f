"""The command line as users run it: a real subprocess on real images."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "facekyc.cli", *args], capture_output=True, text=True,
                          timeout=300, check=False)


def test_compare_json_genuine_and_impostor(lfw_images: Path) -> None:
    a = lfw_images / "Donald_Rumsfeld" / "Donald_Rumsfeld_0022.jpg"
    b = lfw_images / "Donald_Rumsfeld" / "Donald_Rumsfeld_0028.jpg"
    c = lfw_images / "Laura_Bush" / "Laura_Bush_0004.jpg"
    same = _run("compare", str(a), str(b), "--json")
    assert same.returncode == 0, same.stderr
    out = json.loads(same.stdout)
    assert out["decision"] == "match" and out["fmr_target"] == 1e-3
    assert {"quality_a", "quality_b", "score", "threshold"} <= set(out)
    other = json.loads(_run("compare", str(a), str(c), "--json", "--fmr", "1e-4").stdout)
    assert other["decision"] == "non_match" and other["fmr_target"] == 1e-4
    crowded = _run("compare", str(a), str(c), "--json", "--strict")  # other people stand behind Laura Bush
    assert crowded.returncode == 2 and json.loads(crowded.stdout)["error"] == "multiple_faces"


def test_compare_bad_input_exits_2_with_the_code(tmp_path: Path, lfw_images: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not really a jpeg")
    good = lfw_images / "Laura_Bush" / "Laura_Bush_0004.jpg"
    result = _run("compare", str(junk), str(good), "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"] == "image_unreadable"
    missing = _run("compare", str(tmp_path / "nope.jpg"), str(good))
    assert missing.returncode == 2 and "file_not_found" in missing.stderr
    out_of_range = _run("compare", str(good), str(good), "--fmr", "0.5")
    assert out_of_range.returncode == 2


def test_score_pairs_keeps_columns_and_reports_errors(tmp_path: Path, lfw_images: Path) -> None:
    (tmp_path / "junk.png").write_bytes(b"\x89PNG garbage")
    rows = [
        {"a": str(lfw_images / "Colin_Powell" / "Colin_Powell_0038.jpg"),
         "b": str(lfw_images / "Colin_Powell" / "Colin_Powell_0074.jpg"), "note": "same"},
        {"a": str(lfw_images / "Colin_Powell" / "Colin_Powell_0038.jpg"),
         "b": str(lfw_images / "Laura_Bush" / "Laura_Bush_0004.jpg"), "note": "different"},
        {"a": "junk.png", "b": str(lfw_images / "Laura_Bush" / "Laura_Bush_0004.jpg"), "note": "broken"},
        {"a": "missing.jpg", "b": "junk.png", "note": "missing"},
    ]
    pairs = tmp_path / "pairs.csv"
    with pairs.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["a", "b", "note"])
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "scores.csv"
    result = _run("score-pairs", str(pairs), "--out", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    with out.open() as handle:
        got = list(csv.DictReader(handle))
    assert [r["note"] for r in got] == ["same", "different", "broken", "missing"]
    assert list(got[0]) == ["a", "b", "note", "score", "decision", "error"]
    assert got[0]["decision"] == "match" and got[1]["decision"] == "non_match"
    assert float(got[0]["score"]) > float(got[1]["score"])
    assert got[2]["error"] == "image_unreadable" and got[2]["score"] == ""
    assert got[3]["error"] == "file_not_found"


def test_score_pairs_refuses_a_csv_without_a_and_b(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("left,right\nx.jpg,y.jpg\n")
    result = _run("score-pairs", str(bad), "--out", str(tmp_path / "o.csv"))
    assert result.returncode == 2 and "columns named a and b" in result.stderr
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.slow
def test_eval_verification_writes_a_report(tmp_path: Path, lfw_images: Path) -> None:
    people = ["Colin_Powell", "Donald_Rumsfeld", "Jacques_Chirac", "Laura_Bush"]
    lines = ["a,b,same"]
    for p in people:
        files = sorted((lfw_images / p).glob("*.jpg"))
        lines += [f"{files[0]},{files[1]},1", f"{files[2]},{files[3]},1"]
    for k, p in enumerate(people):
        q = people[(k + 1) % len(people)]
        lines += [f"{next((lfw_images / p).glob('*.jpg'))},{next((lfw_images / q).glob('*.jpg'))},0"] * 2
    (tmp_path / "pairs.csv").write_text("\n".join(lines) + "\n")
    report = tmp_path / "report"
    result = _run("eval", "verification", "--pairs", str(tmp_path / "pairs.csv"), "--format", "csv",
                  "--root", str(tmp_path), "--report", str(report), "--workers", "1")
    assert result.returncode == 0, result.stderr
    summary = json.loads((report / "summary.json").read_text())
    assert summary["pairs"] == 16 and summary["failed_images"] == 0
    assert summary["accuracy"] == 1.0
    assert (report / "det.png").stat().st_size > 5000 and (report / "scores.csv").exists()


def test_score_pairs_scores_as_the_engine_cascade_does(tmp_path: Path, lfw_images: Path, engine) -> None:  # type: ignore[no-untyped-def]
    """score-pairs runs dlib only where SFace cannot decide alone; its scores must be the engine's own
    lazy comparison (the cascade), pair for pair, in and out of the band."""
    people = [("Colin_Powell", 38), ("Colin_Powell", 74), ("Laura_Bush", 4), ("Tony_Blair", 6),
              ("Bono", 2), ("Bono", 3), ("Jose_Dirceu", 1), ("Jose_Dirceu", 2)]  # Bono, Dirceu: in the band
    paths = [str(lfw_images / n / f"{n}_{i:04d}.jpg") for n, i in people]
    pairs = [(a, b) for k, a in enumerate(paths) for b in paths[k + 1:]]
    listing = tmp_path / "pairs.csv"
    with listing.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b"])
        writer.writerows(pairs)
    out = tmp_path / "scores.csv"
    result = _run("score-pairs", str(listing), "--out", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    with out.open() as handle:
        got = [float(r["score"]) for r in csv.DictReader(handle)]
    lazy = {p: engine.analyse(Path(p).read_bytes(), policy="primary", lazy=True) for p in paths}
    in_band = [engine.scorer.needs_more(lazy[a].embeddings, lazy[b].embeddings) for a, b in pairs]
    assert 0 < sum(in_band) < len(pairs), "the pairs should exercise both sides of the band"
    for (a, b), needed in zip(pairs, in_band, strict=True):
        if needed:  # what the second pass does: dlib for both images of an undecided pair
            engine.complete(lazy[a])
            engine.complete(lazy[b])
    expected = [engine.compare(lazy[a], lazy[b]).score for a, b in pairs]  # fused wherever both have dlib
    assert got == pytest.approx(expected, abs=1e-4)
