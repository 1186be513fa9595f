"""Calibration and fusion maths on synthetic scores, and the shipped file's consistency."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from facekyc.vision.calibration import FMR_TARGETS, Calibration, fit_score_calibration, fmr_key
from facekyc.vision.fusion import LogisticFusion, fit_fusion, fit_logistic


@pytest.fixture(scope="module")
def impostor() -> np.ndarray:
    return np.random.default_rng(7).normal(0.0, 1.0, 1_000_000)


def test_thresholds_meet_their_fmr_targets(impostor: np.ndarray) -> None:
    cal = fit_score_calibration(impostor)
    for target in FMR_TARGETS:
        t = cal.threshold(target)
        realised = float((impostor >= t).mean())
        assert realised <= target  # never more false matches than promised on the fitting data
        assert realised >= target * 0.8  # and not needlessly strict
    # a normal tail: 1e-3 -> z = 3.09
    assert cal.threshold(1e-3) == pytest.approx(3.09, abs=0.03)


def test_threshold_between_targets_is_monotone(impostor: np.ndarray) -> None:
    cal = fit_score_calibration(impostor)
    grid = np.logspace(-2, -5, 25)
    values = [cal.threshold(float(f)) for f in grid]
    assert all(b >= a for a, b in itertools.pairwise(values))
    with pytest.raises(ValueError):
        cal.threshold(0.05)
    with pytest.raises(ValueError):
        cal.threshold(1e-7)


def test_estimated_fmr_inverts_the_threshold(impostor: np.ndarray) -> None:
    cal = fit_score_calibration(impostor)
    for target in (1e-2, 1e-3, 1e-4):
        assert cal.estimated_fmr(cal.threshold(target)) == pytest.approx(target, rel=0.35)
    assert cal.estimated_fmr(-10.0) == pytest.approx(1.0, rel=0.01)
    assert cal.estimated_fmr(100.0) <= 1e-5


def test_too_few_impostors_for_a_target_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot support"):
        fit_score_calibration(np.random.default_rng(0).normal(size=5_000))


def test_logistic_fit_recovers_direction_and_separates() -> None:
    rng = np.random.default_rng(3)
    genuine = rng.normal([0.6, 0.9], [0.1, 0.02], size=(2000, 2))
    impostor = rng.normal([0.1, 0.8], [0.1, 0.02], size=(2000, 2))
    x = np.vstack([genuine, impostor])
    y = np.r_[np.ones(2000), np.zeros(2000)]
    w, b = fit_logistic(x, y)
    assert (w > 0).all()
    fused = x @ w + b
    assert ((fused > 0) == (y == 1)).mean() > 0.99
    with pytest.raises(ValueError):
        fit_logistic(x, np.ones(len(x)))


def test_fusion_round_trip_and_template_weights() -> None:
    fusion = fit_fusion(("a", "b"), np.array([[0.9, 0.5], [0.1, 0.2], [0.8, 0.7], [0.2, 0.1]]),
                        np.array([1, 0, 1, 0]))
    again = LogisticFusion.from_dict(fusion.to_dict())
    assert again == fusion
    s = {"a": 0.4, "b": 0.3}
    assert again.fuse(s) == pytest.approx(fusion.bias + fusion.weights[0] * 0.4 + fusion.weights[1] * 0.3)
    tw = fusion.template_weights()
    assert tw["a"] == pytest.approx(math.sqrt(max(fusion.weights[0], 0)))
    with pytest.raises(KeyError):
        fusion.fuse({"a": 0.1})


def test_shipped_calibration_is_consistent() -> None:
    cal = Calibration.load()
    assert set(cal.scores) == {"sface", "dlib", "fused"}
    assert cal.fusion.models == ("sface", "dlib")
    assert all(w > 0 for w in cal.fusion.weights)
    for name, score_cal in cal.scores.items():
        values = [score_cal.threshold(t) for t in FMR_TARGETS]
        assert values == sorted(values), name  # stricter FMR -> higher threshold
        assert set(score_cal.thresholds) == {fmr_key(t) for t in FMR_TARGETS}
    assert "DevTrain" in cal.provenance["fitted_on"] and "DevTest" in cal.provenance["checked_on"]
    assert Calibration.from_json(cal.to_json()).scores["fused"].thresholds == cal.scores["fused"].thresholds
