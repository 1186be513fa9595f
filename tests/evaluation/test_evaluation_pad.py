"""PAD metrics (ISO/IEC 30107-3 style) on hand-made scores."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from facekyc.evaluation import apcer_bpcer, bpcer_at_apcer, eer, summarise_pad, threshold_at_bpcer

BONA = np.array([0.9, 0.8, 0.7, 0.4, 0.2])


def test_apcer_bpcer_hand_made() -> None:
    attacks = {"print": np.array([0.1, 0.6, 0.3, 0.5]), "replay": np.array([0.05, 0.2])}
    per_type, apcer_max, bpcer = apcer_bpcer(BONA, attacks, 0.5)
    # score < 0.5 is an attack decision: print 0.6 and 0.5 get through, bona fide 0.4 and 0.2 fail.
    assert per_type == {"print": 0.5, "replay": 0.0}
    assert apcer_max == 0.5
    assert bpcer == 0.4


def test_apcer_bpcer_nan_is_an_attack_decision() -> None:
    per_type, _, bpcer = apcer_bpcer([0.9, np.nan], {"mask": [np.nan, 0.9]}, 0.5)
    assert bpcer == 0.5
    assert per_type == {"mask": 0.5}


def test_apcer_bpcer_rejects_empty() -> None:
    with pytest.raises(ValueError):
        apcer_bpcer(BONA, {}, 0.5)
    with pytest.raises(ValueError):
        apcer_bpcer(BONA, {"print": []}, 0.5)


def test_bpcer_at_apcer_pooled() -> None:
    attack = np.array([0.1] * 8 + [0.3, 0.75])
    # APCER <= 10%: one attack may pass, the smallest such threshold is 0.75 -> 0.7, 0.4, 0.2 fail.
    assert bpcer_at_apcer(BONA, attack, 0.1) == pytest.approx((0.6, 0.75))
    assert bpcer_at_apcer(BONA, attack, 0.2) == pytest.approx((0.2, 0.3))
    bpcer, threshold = bpcer_at_apcer(BONA, attack, 0.05)  # below 1/10: not estimable
    assert math.isnan(bpcer) and math.isnan(threshold)


def test_bpcer_at_apcer_worst_type_rules() -> None:
    attacks = {"print": np.array([0.1] * 9 + [0.75]), "replay": np.array([0.85] + [0.0] * 9)}
    # print alone needs 0.75, replay alone 0.85; both must meet 10% -> 0.85.
    assert bpcer_at_apcer(BONA, attacks, 0.1) == pytest.approx((0.8, 0.85))


def test_threshold_at_bpcer_hand_made() -> None:
    bona = np.array([0.1, 0.2, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert threshold_at_bpcer(bona, 0.0) == 0.1
    assert threshold_at_bpcer(bona, 0.1) == 0.2
    assert threshold_at_bpcer(bona, 0.2) == 0.4
    assert threshold_at_bpcer(bona, 0.3) == 0.4  # 0.5 would reject both 0.4s: 4/10
    assert threshold_at_bpcer(bona, 1.0) == 1.0


@pytest.mark.parametrize("target", [0.0, 0.01, 0.05, 0.2, 0.5])
def test_threshold_at_bpcer_is_the_largest_meeting_target(target: float) -> None:
    rng = np.random.default_rng(9)
    bona = rng.integers(0, 30, 300).astype(float)
    t = threshold_at_bpcer(bona, target)
    assert np.mean(bona < t) <= target
    higher = bona[bona > t]
    if higher.size:
        assert np.mean(bona < higher.min()) > target


def test_summarise_pad() -> None:
    rng = np.random.default_rng(10)
    scores = np.concatenate([rng.normal(1, 1, 200), rng.normal(-1, 1, 100), rng.normal(-2, 1, 100)])
    labels = ["live"] * 150 + ["Bona_Fide"] * 50 + ["print"] * 100 + ["replay"] * 100
    scores[[0, 250]] = np.nan
    summary = summarise_pad(scores, labels, threshold=0.0)
    assert (summary.n_bona_fide, summary.n_attack, summary.n_failed) == (200, 200, 2)
    assert summary.n_attack_by_type == {"print": 100, "replay": 100}
    per_type, apcer_max, bpcer = apcer_bpcer(scores[:200], {"print": scores[200:300], "replay": scores[300:]}, 0.0)
    assert summary.apcer_by_type == per_type
    assert (summary.apcer_max, summary.bpcer) == (apcer_max, bpcer)
    assert summary.acer == pytest.approx((apcer_max + bpcer) / 2)
    bona_ok, print_ok = scores[1:200], np.delete(scores[200:300], 50)
    assert (summary.eer, summary.eer_threshold) == eer(bona_ok, np.concatenate([print_ok, scores[300:]]))
    # 99 scored print attacks: 1% is not estimable, 5% is.
    assert math.isnan(summary.bpcer_at_apcer["1e-02"])
    expected = bpcer_at_apcer(bona_ok, {"print": print_ok, "replay": scores[300:]}, 0.05)
    assert (summary.bpcer_at_apcer["5e-02"], summary.threshold_at_apcer["5e-02"]) == expected
    as_json = json.loads(json.dumps(summary.to_dict(), allow_nan=False))
    assert as_json["bpcer_at_apcer"]["1e-02"] is None


def test_summarise_pad_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both"):
        summarise_pad([0.1, 0.2], ["live", "live"], 0.5)
