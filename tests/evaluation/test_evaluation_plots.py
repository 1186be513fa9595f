"""DET plots render to real image files."""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from PIL import Image

from facekyc.evaluation import det_curve, eer, plot_det
from facekyc.evaluation.plots import probit


def test_probit_clips_and_matches_normal_dist() -> None:
    values = probit([0.0, 0.5, 0.1587, 1.0], epsilon=1e-6)
    assert values[1] == 0.0
    assert values[2] == pytest.approx(-1.0, abs=1e-3)
    assert values[0] == pytest.approx(NormalDist().inv_cdf(1e-6))
    assert values[3] == pytest.approx(-values[0])


def test_plot_det_writes_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    genuine, impostor = rng.normal(2, 1, 2000), rng.normal(0, 1, 5000)
    fmr, fnmr, _ = det_curve(genuine, impostor)
    rate, _ = eer(genuine, impostor)
    out = plot_det(
        {"system A": (fmr, fnmr), "system B": (fmr, np.sqrt(fnmr))},
        tmp_path / "plots" / "det.png",
        "DET",
        operating_points={"EER": (rate, rate), "FMR 0.1%": (0.001, 0.6)},
    )
    assert out == tmp_path / "plots" / "det.png"
    assert out.stat().st_size > 1000
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == (600, 600)


def test_plot_det_for_pad_with_custom_size(tmp_path: Path) -> None:
    out = plot_det(
        {"liveness": (np.array([1.0, 0.2, 0.05, 0.0]), np.array([0.0, 0.01, 0.1, 1.0]))},
        tmp_path / "pad.png",
        "PAD",
        x_label="APCER",
        y_label="BPCER",
        figsize=(4.0, 3.0),
        dpi=50,
    )
    with Image.open(out) as image:
        assert image.size == (200, 150)


def test_plot_det_needs_something(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        plot_det({}, tmp_path / "x.png", "empty")
