"""Presentation attack detection (liveness) metrics in the spirit of ISO/IEC 30107-3.

Scores say how bona fide (live) a presentation looks: higher = more likely bona fide. A
presentation is classified as an attack when score < threshold. APCER is computed per attack type
(PAI species) and the worst type is the headline APCER, as the standard asks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from facekyc.evaluation._arrays import (
    RATE_TOLERANCE,
    FloatArray,
    as_scores,
    check_rate,
    count_lt,
    json_float,
    rate_key,
    require_nonempty,
)
from facekyc.evaluation.verification import eer, threshold_at_fmr

BONA_FIDE_LABELS: frozenset[str] = frozenset({"live", "bona_fide"})
DEFAULT_APCER_TARGETS: tuple[float, ...] = (1e-2, 5e-2)

__all__ = [
    "BONA_FIDE_LABELS",
    "DEFAULT_APCER_TARGETS",
    "PadSummary",
    "apcer_bpcer",
    "bpcer_at_apcer",
    "is_bona_fide_label",
    "summarise_pad",
    "threshold_at_bpcer",
]


def is_bona_fide_label(label: str) -> bool:
    """'live' and 'bona_fide' (any case, surrounding spaces ignored) mean a bona fide sample."""
    return label.strip().lower() in BONA_FIDE_LABELS


def apcer_bpcer(
    bona_fide_scores: npt.ArrayLike,
    attack_scores_by_type: Mapping[str, npt.ArrayLike],
    threshold: float,
) -> tuple[dict[str, float], float, float]:
    """(APCER per attack type, max APCER, BPCER) at `threshold`; ACER = (max APCER + BPCER) / 2.

    NaN scores (the detector produced no score) are classified as attacks, as the service would
    reject them: an error for bona fide presentations, a correct decision for attacks.
    """
    bona = as_scores(bona_fide_scores, "bona_fide_scores", allow_nan=True)
    require_nonempty(bona, "bona_fide_scores")
    if not attack_scores_by_type:
        raise ValueError("attack_scores_by_type is empty")
    if math.isnan(threshold):
        raise ValueError("threshold is NaN")
    per_type: dict[str, float] = {}
    for name, values in attack_scores_by_type.items():
        attack = as_scores(values, f"attack scores for {name!r}", allow_nan=True)
        require_nonempty(attack, f"attack scores for {name!r}")
        per_type[name] = float(np.count_nonzero(attack >= threshold) / attack.size)
    bpcer = float(np.count_nonzero(~(bona >= threshold)) / bona.size)
    return per_type, max(per_type.values()), bpcer


def bpcer_at_apcer(
    bona_fide: npt.ArrayLike,
    attack: npt.ArrayLike | Mapping[str, npt.ArrayLike],
    target_apcer: float,
) -> tuple[float, float]:
    """(BPCER, threshold) at the smallest threshold keeping APCER <= target (e.g. BPCER20 at 5%).

    `attack` is either one pooled array or a mapping per attack type; with a mapping every type
    must meet the target (the max-APCER rule). Ties follow `threshold_at_fmr`. Returns (NaN, NaN)
    when the target is below 1/n for some attack set: such a low APCER cannot be observed.
    """
    bona = as_scores(bona_fide, "bona_fide")
    require_nonempty(bona, "bona_fide")
    target = check_rate(target_apcer, "target_apcer")
    if isinstance(attack, Mapping):
        sets = [as_scores(v, f"attack scores for {k!r}") for k, v in attack.items()]
    else:
        sets = [as_scores(attack, "attack")]
    if not sets:
        raise ValueError("attack is empty")
    for values in sets:
        require_nonempty(values, "attack")
    if any(target * values.size < 1.0 - RATE_TOLERANCE for values in sets):
        return math.nan, math.nan
    threshold = max(threshold_at_fmr(values, target) for values in sets)
    return float(np.count_nonzero(bona < threshold) / bona.size), threshold


def threshold_at_bpcer(bona_fide: npt.ArrayLike, target_bpcer: float) -> float:
    """Largest observed bona fide score t with BPCER (bona fide < t) <= target.

    The largest such threshold rejects the most attacks for the stated bona fide rejection rate.
    Bona fide scores equal to t are accepted, so t is always an observed score and ties can
    only lower the realised BPCER.
    """
    bona = np.sort(as_scores(bona_fide, "bona_fide"))
    require_nonempty(bona, "bona_fide")
    target = check_rate(target_bpcer, "target_bpcer")
    distinct = np.unique(bona)
    ok = count_lt(bona, distinct) <= target * bona.size + RATE_TOLERANCE
    last = int(np.flatnonzero(ok)[-1])  # the lowest score always has BPCER 0
    return float(distinct[last])


@dataclass(frozen=True)
class PadSummary:
    """Headline PAD numbers at one operating threshold, ready for a JSON report.

    Rate dictionaries are keyed like "5e-02"; NaN means not estimable or no data.
    """

    threshold: float
    n_bona_fide: int
    n_attack: int
    n_attack_by_type: dict[str, int]
    n_failed: int
    apcer_by_type: dict[str, float]
    apcer_max: float
    bpcer: float
    acer: float
    bpcer_at_apcer: dict[str, float]
    threshold_at_apcer: dict[str, float]
    eer: float
    eer_threshold: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; NaN becomes None because JSON has no NaN."""
        return {
            "threshold": json_float(self.threshold),
            "n_bona_fide": self.n_bona_fide,
            "n_attack": self.n_attack,
            "n_attack_by_type": dict(self.n_attack_by_type),
            "n_failed": self.n_failed,
            "apcer_by_type": {k: json_float(v) for k, v in self.apcer_by_type.items()},
            "apcer_max": json_float(self.apcer_max),
            "bpcer": json_float(self.bpcer),
            "acer": json_float(self.acer),
            "bpcer_at_apcer": {k: json_float(v) for k, v in self.bpcer_at_apcer.items()},
            "threshold_at_apcer": {k: json_float(v) for k, v in self.threshold_at_apcer.items()},
            "eer": json_float(self.eer),
            "eer_threshold": json_float(self.eer_threshold),
        }


def summarise_pad(
    scores: npt.ArrayLike,
    labels: Sequence[str],
    threshold: float,
    *,
    apcer_targets: tuple[float, ...] = DEFAULT_APCER_TARGETS,
) -> PadSummary:
    """Summarise a PAD run; labels 'live'/'bona_fide' are bona fide, any other is the attack type.

    NaN scores count as attack decisions at `threshold` (see `apcer_bpcer`) and are left out of
    the threshold-free numbers: BPCER@APCER (worst attack type must meet the target) and the EER
    (all attack types pooled).
    """
    sc = as_scores(scores, "scores", allow_nan=True)
    if len(labels) != sc.size:
        raise ValueError(f"scores ({sc.size}) and labels ({len(labels)}) differ in length")
    bona_idx: list[int] = []
    attack_idx: dict[str, list[int]] = {}  # first-seen order of attack types
    for i, label in enumerate(labels):
        if is_bona_fide_label(label):
            bona_idx.append(i)
        else:
            attack_idx.setdefault(label, []).append(i)
    bona = sc[np.asarray(bona_idx, dtype=np.intp)]
    attack_types: dict[str, FloatArray] = {k: sc[np.asarray(v)] for k, v in attack_idx.items()}
    if bona.size == 0 or not attack_types:
        raise ValueError("a PAD summary needs both bona fide and attack presentations")
    per_type, apcer_max, bpcer = apcer_bpcer(bona, attack_types, threshold)

    bona_ok = bona[~np.isnan(bona)]
    attack_ok = {k: v[~np.isnan(v)] for k, v in attack_types.items()}
    complete = bona_ok.size > 0 and all(v.size for v in attack_ok.values())
    bpcer_at: dict[str, float] = {}
    thr_at: dict[str, float] = {}
    for target in apcer_targets:
        value, thr = bpcer_at_apcer(bona_ok, attack_ok, target) if complete else (math.nan, math.nan)
        bpcer_at[rate_key(target)] = value
        thr_at[rate_key(target)] = thr
    rate = eer_threshold = math.nan
    if complete:
        rate, eer_threshold = eer(bona_ok, np.concatenate(list(attack_ok.values())))
    return PadSummary(
        threshold=float(threshold),
        n_bona_fide=int(bona.size),
        n_attack=int(sum(v.size for v in attack_types.values())),
        n_attack_by_type={k: int(v.size) for k, v in attack_types.items()},
        n_failed=int(np.isnan(sc).sum()),
        apcer_by_type=per_type,
        apcer_max=apcer_max,
        bpcer=bpcer,
        acer=(apcer_max + bpcer) / 2,
        bpcer_at_apcer=bpcer_at,
        threshold_at_apcer=thr_at,
        eer=rate,
        eer_threshold=eer_threshold,
    )
