"""Verification metrics checked against hand-computed values and brute-force loops."""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np
import pytest

from facekyc.evaluation import (
    det_curve,
    eer,
    failure_rates,
    fmr_fnmr,
    fnmr_at_fmr,
    kfold_accuracy,
    stratified_fold_ids,
    summarise_verification,
    threshold_at_fmr,
)
from facekyc.evaluation.verification import _best_threshold


def brute_fmr(impostor: np.ndarray, t: float) -> float:
    return sum(1 for s in impostor if s >= t) / len(impostor)


def brute_fnmr(genuine: np.ndarray, t: float) -> float:
    return sum(1 for s in genuine if s < t) / len(genuine)


def test_fmr_fnmr_hand_made() -> None:
    genuine = np.array([0.6, 0.8, 0.9])
    impostor = np.array([0.1, 0.3, 0.7])
    fmr, fnmr = fmr_fnmr(genuine, impostor, np.array([0.0, 0.3, 0.65, 0.7, 0.9, 1.0]))
    # >= threshold is a match: an impostor exactly at 0.3 / 0.7 is a false match.
    np.testing.assert_allclose(fmr, [1, 2 / 3, 1 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(fnmr, [0, 0, 1 / 3, 1 / 3, 2 / 3, 1])  # genuine 0.6 < 0.65


def test_fmr_fnmr_matches_brute_force_with_ties() -> None:
    rng = np.random.default_rng(1)
    genuine = rng.integers(0, 20, 60).astype(float)
    impostor = rng.integers(-5, 12, 80).astype(float)
    thresholds = np.arange(-7, 23, 0.5)
    fmr, fnmr = fmr_fnmr(genuine, impostor, thresholds)
    assert fmr.tolist() == [brute_fmr(impostor, t) for t in thresholds]
    assert fnmr.tolist() == [brute_fnmr(genuine, t) for t in thresholds]


def test_fmr_fnmr_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        fmr_fnmr([], [1.0], [0.5])
    with pytest.raises(ValueError, match="NaN"):
        fmr_fnmr([np.nan], [1.0], [0.5])


def test_det_curve_covers_every_distinct_score() -> None:
    rng = np.random.default_rng(2)
    genuine = np.round(rng.normal(1, 1, 200), 1)
    impostor = np.round(rng.normal(0, 1, 300), 1)
    fmr, fnmr, thr = det_curve(genuine, impostor)
    distinct = sorted(set(genuine.tolist()) | set(impostor.tolist()))
    assert thr[:-1].tolist() == distinct
    assert thr[-1] > distinct[-1]
    assert (fmr[0], fnmr[0], fmr[-1], fnmr[-1]) == (1.0, 0.0, 0.0, 1.0)
    assert np.all(np.diff(fmr) <= 0) and np.all(np.diff(fnmr) >= 0)
    for k in range(0, thr.size, 17):
        assert fmr[k] == brute_fmr(impostor, thr[k])
        assert fnmr[k] == brute_fnmr(genuine, thr[k])


def test_eer_exact_crossing() -> None:
    # FMR = FNMR = 1/3 exactly at threshold 0.7 (hand computed).
    assert eer([0.6, 0.8, 0.9], [0.1, 0.3, 0.7]) == pytest.approx((1 / 3, 0.7))


def test_eer_interpolated_crossing() -> None:
    # thresholds .6 -> (FMR .5, FNMR 1/3) and .9 -> (0, 1/3): the segment crosses FMR = FNMR
    # a third of the way along, at rate 1/3 and threshold .6 + .3 / 3 = .7.
    assert eer([0.5, 0.9, 0.95], [0.1, 0.6]) == pytest.approx((1 / 3, 0.7))


def test_eer_perfect_separation_is_zero() -> None:
    rate, threshold = eer([2.0, 3.0], [0.0, 1.0])
    assert rate == 0.0
    assert 1.0 < threshold <= 2.0


def test_eer_of_two_normals() -> None:
    rng = np.random.default_rng(3)
    genuine = rng.normal(2.0, 1.0, 100_000)
    impostor = rng.normal(0.0, 1.0, 100_000)
    rate, threshold = eer(genuine, impostor)
    assert rate == pytest.approx(NormalDist().cdf(-1.0), abs=0.004)  # 0.1587
    assert threshold == pytest.approx(1.0, abs=0.02)


def test_threshold_at_fmr_hand_made_tie_rule() -> None:
    impostor = np.array([0.1, 0.2, 0.5, 0.5, 0.9])
    # 1 false match allowed (20%): 0.5 would give 3/5 because both 0.5s match, so go to 0.9.
    assert threshold_at_fmr(impostor, 0.2) == 0.9
    assert threshold_at_fmr(impostor, 0.6) == 0.5
    assert threshold_at_fmr(impostor, 1.0) == 0.1
    above = threshold_at_fmr(impostor, 0.1)  # below 1/n: just above the top impostor
    assert above > 0.9 and brute_fmr(impostor, above) == 0.0


@pytest.mark.parametrize("target", [0.0, 0.001, 0.01, 0.05, 0.1, 0.33, 0.5, 1.0])
def test_threshold_at_fmr_is_the_smallest_meeting_target(target: float) -> None:
    rng = np.random.default_rng(4)
    impostor = rng.integers(0, 40, 500).astype(float)  # many ties
    t = threshold_at_fmr(impostor, target)
    assert brute_fmr(impostor, t) <= target
    lower = impostor[impostor < t]
    if lower.size:
        assert brute_fmr(impostor, lower.max()) > target


def test_fnmr_at_fmr_and_not_estimable() -> None:
    genuine = np.array([0.5, 0.6, 0.95, 0.99])
    impostor = np.linspace(0.0, 0.9, 10)  # top impostor 0.9
    assert fnmr_at_fmr(genuine, impostor, 0.1) == 0.5  # threshold 0.9: 0.5, 0.6 rejected
    assert math.isnan(fnmr_at_fmr(genuine, impostor, 0.01))  # < 1/10 cannot be observed


def test_failure_rates() -> None:
    assert failure_rates(200, 3) == 0.015
    assert math.isnan(failure_rates(0, 0))
    with pytest.raises(ValueError):
        failure_rates(2, 3)


def test_stratified_folds_balance_a_sorted_file() -> None:
    labels = np.array([True] * 500 + [False] * 500)  # DevTest layout
    ids = stratified_fold_ids(labels, 10)
    for fold in range(10):
        assert np.count_nonzero(labels[ids == fold]) == 50
        assert np.count_nonzero(~labels[ids == fold]) == 50
    # Within a class, folds follow file order.
    assert np.all(np.diff(ids[:500]) >= 0) and np.all(np.diff(ids[500:]) >= 0)


def test_stratified_folds_reproduce_lfw_view2_blocks() -> None:
    block = [True] * 30 + [False] * 30
    labels = np.array(block * 10)
    assert stratified_fold_ids(labels, 10).tolist() == np.repeat(np.arange(10), 60).tolist()


def test_stratified_folds_too_few_pairs() -> None:
    with pytest.raises(ValueError, match="too few"):
        stratified_fold_ids([True, False, True], 10)


def test_kfold_perfectly_separable() -> None:
    rng = np.random.default_rng(5)
    labels = np.array([True] * 100 + [False] * 100)
    scores = np.where(labels, rng.uniform(1, 2, 200), rng.uniform(-2, -1, 200))
    mean, std, per_fold = kfold_accuracy(scores, labels)
    assert (mean, std) == (1.0, 0.0)
    assert per_fold == [1.0] * 10


def test_kfold_known_errors() -> None:
    # 10 folds of 10 positives + 10 negatives, well separated, except that fold k holds k % 3
    # positives scoring -10: always misclassified, and too few to move the learned threshold.
    rng = np.random.default_rng(6)
    scores, labels, folds = [], [], []
    for k in range(10):
        pos = rng.uniform(1, 2, 10)
        pos[: k % 3] = -10.0
        scores += [*pos, *rng.uniform(-2, -1, 10)]
        labels += [True] * 10 + [False] * 10
        folds += [k] * 20
    mean, std, per_fold = kfold_accuracy(np.array(scores), np.array(labels), fold_ids=np.array(folds))
    expected = [(20 - k % 3) / 20 for k in range(10)]
    assert per_fold == pytest.approx(expected)
    assert mean == pytest.approx(np.mean(expected))
    assert std == pytest.approx(np.std(expected, ddof=1))


def test_best_threshold_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    for trial in range(20):
        n = int(rng.integers(2, 40))
        scores = np.round(rng.normal(0, 1, n), 1)
        labels = rng.random(n) < 0.5
        if trial % 2:
            scores[rng.random(n) < 0.2] = np.nan
        _, accuracy = _best_threshold(scores, labels)
        finite = scores[np.isfinite(scores)]
        candidates = [*finite, np.inf]
        brute = max(sum(bool(s >= t) == lab for s, lab in zip(scores, labels, strict=True)) for t in candidates)
        assert accuracy == pytest.approx(brute / n)


def test_kfold_counts_failed_pairs_as_non_matches() -> None:
    labels = np.array([True] * 10 + [False] * 10)
    scores = np.where(labels, 1.0, -1.0)
    scores[0] = np.nan  # failed genuine pair: an error
    scores[10] = np.nan  # failed impostor pair: a correct rejection
    mean, _, per_fold = kfold_accuracy(scores, labels)
    assert per_fold[0] == 0.5  # fold 0 = {genuine 0, impostor 10}
    assert mean == pytest.approx(19 / 20)


def test_summarise_verification_with_failures() -> None:
    rng = np.random.default_rng(8)
    labels = np.array([True] * 500 + [False] * 500)
    scores = np.where(labels, rng.normal(3, 1, 1000), rng.normal(0, 1, 1000))
    scores[[0, 1, 600]] = np.nan
    summary = summarise_verification(scores, labels)
    assert (summary.n_genuine, summary.n_impostor, summary.n_failed) == (500, 500, 3)
    assert summary.fta_rate == pytest.approx(0.003)
    genuine, impostor = scores[:500][2:], np.delete(scores[500:], 100)
    assert (summary.eer, summary.eer_threshold) == eer(genuine, impostor)
    assert summary.fnmr_at_fmr["1e-02"] == fnmr_at_fmr(genuine, impostor, 0.01)
    assert summary.threshold_at_fmr["1e-02"] == threshold_at_fmr(impostor, 0.01)
    # 499 scored impostors: 1e-03 and 1e-04 are below 1/n and so not estimable.
    assert math.isnan(summary.fnmr_at_fmr["1e-03"]) and math.isnan(summary.threshold_at_fmr["1e-04"])
    assert summary.accuracy_mean == kfold_accuracy(scores, labels)[0]
    as_json = json.loads(json.dumps(summary.to_dict(), allow_nan=False))
    assert as_json["fnmr_at_fmr"] == {"1e-02": summary.fnmr_at_fmr["1e-02"], "1e-03": None, "1e-04": None}


def test_summarise_verification_all_genuine_failed() -> None:
    labels = np.array([True] * 10 + [False] * 10)
    scores = np.where(labels, np.nan, 0.0)
    summary = summarise_verification(scores, labels)
    assert math.isnan(summary.eer)
    assert summary.accuracy_mean == 0.5
    assert summary.fta_rate == 0.5
