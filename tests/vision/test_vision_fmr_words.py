"""Scores in words (one helper for the console, the API and `compare`) and the reviewer's face crop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facekyc.vision.detect import Face
from facekyc.vision.evidence_crop import CROP_SIZE, face_crop_jpeg
from facekyc.vision.fmr_words import explain_score, fmr_in_words


@pytest.mark.parametrize(("fmr", "words"), [
    (8.3e-7, "about 1 in 1.2 million"), (1e-9, "about 1 in 1 billion"), (2.5e-10, "about 1 in 4 billion"),
    (8.3e-5, "about 1 in 12,000"), (1e-3, "about 1 in 1,000"), (0.0999, "about 1 in 10"),
    (0.12, "about 1 in 8.3"), (0.03, "about 1 in 33"), (0.5, "more often than 1 in 2"),
    (0.0, "not estimated"), (float("nan"), "not estimated")])
def test_fmr_in_words(fmr: float, words: str) -> None:
    assert fmr_in_words(fmr) == words


def test_at_the_calibration_floor_the_words_are_a_bound() -> None:
    assert fmr_in_words(8.4e-7, floor=8.4e-7) == "fewer than 1 in 1.2 million"
    assert fmr_in_words(2e-6, floor=8.4e-7) == "about 1 in 500,000"
    assert "fewer than 1 in 1.2 million comparisons" in explain_score(18.0, 0.8, 8.4e-7, 8.4e-7).summary


def test_explained_score_states_the_margin_on_either_side() -> None:
    above = explain_score(0.62, 0.41, 8.3e-7)
    assert above.margin == pytest.approx(0.21) and "0.210 above the threshold 0.410" in above.summary
    assert "about 1 in 1.2 million comparisons of two different people" in above.summary
    below = explain_score(0.2, 0.41, 0.12)
    assert below.margin == pytest.approx(-0.21) and "0.210 below" in below.summary


def test_compare_explains_the_estimated_fmr(lfw_images: Path) -> None:
    a = lfw_images / "Donald_Rumsfeld" / "Donald_Rumsfeld_0022.jpg"
    c = lfw_images / "Tony_Blair" / "Tony_Blair_0006.jpg"
    run = subprocess.run([sys.executable, "-m", "facekyc.cli", "compare", str(a), str(c)], capture_output=True,
                         text=True, timeout=300, check=False, env={"COLUMNS": "200", "NO_COLOR": "1", "PATH": ""})
    assert run.returncode == 0, run.stderr
    assert "below the threshold" in run.stdout
    line = next(x for x in run.stdout.splitlines() if x.startswith("estimated false match rate at this score"))
    assert "comparisons of two different people score this high" in line and " in " in line.split(":", 1)[1]


def test_face_crop_is_the_aligned_face_or_nothing(engine: object, lfw_images: Path) -> None:
    from facekyc.vision.image import decode_image

    photo = (lfw_images / "Colin_Powell" / "Colin_Powell_0038.jpg").read_bytes()
    analysis = engine.analyse(photo, policy="primary")  # type: ignore[attr-defined]
    crop = face_crop_jpeg(decode_image(photo).bgr, analysis.face)
    assert crop is not None and decode_image(crop).size == CROP_SIZE
    again = engine.analyse(crop, policy="primary")  # type: ignore[attr-defined]
    assert engine.compare(analysis, again).decision == "match"  # type: ignore[attr-defined]
    flat = Face(box=(0.0, 0.0, 10.0, 10.0), landmarks=np.zeros((5, 2), np.float32), score=0.9)
    assert face_crop_jpeg(np.zeros((50, 50, 3), np.uint8), flat) is None
