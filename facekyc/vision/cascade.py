"""A two-stage cascade over the fused score: the cheap model first, the costly one only where it can
change the decision.

SFace's cosine alone already places most pairs far from every fused threshold: impostors low,
genuine pairs high. Only inside a band of SFace scores (fitted on LFW View 1 DevTrain, see
`bench/fit_calibration.py`) is dlib's embedding computed; outside it, dlib's cosine is imputed from
SFace's by a straight line fitted on the same data, so the fused score, its thresholds and its
estimated FMR keep one scale. Where both embeddings exist the true fused score is always used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Cascade:
    """`first` decides alone outside [low, high]; the other models' cosines are imputed there."""

    first: str
    low: float
    high: float
    imputed: dict[str, tuple[float, float]]  # model -> (slope, intercept) on the first model's cosine

    def decides_alone(self, first_score: float) -> bool:
        """True when the first model's cosine is outside the band where the others could matter."""
        return not self.low <= first_score <= self.high

    def fill(self, scores: Mapping[str, float]) -> dict[str, float]:
        """The per-model cosines with the missing ones imputed, when the first model decides alone."""
        if self.first not in scores or not self.decides_alone(scores[self.first]):
            return dict(scores)
        s = float(scores[self.first])
        filled = {m: slope * s + intercept for m, (slope, intercept) in self.imputed.items()}
        filled.update(scores)
        return filled

    def to_dict(self) -> dict[str, object]:
        return {"first": self.first, "band": [self.low, self.high],
                "imputed": {m: list(v) for m, v in self.imputed.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Cascade:
        low, high = (float(v) for v in data["band"])  # type: ignore[attr-defined]
        imputed = {str(m): (float(v[0]), float(v[1])) for m, v in data["imputed"].items()}  # type: ignore[attr-defined]
        if not low <= high:
            raise ValueError("cascade band must have low <= high")
        return cls(first=str(data["first"]), low=low, high=high, imputed=imputed)


def fit_imputation(first: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """Least-squares line predicting another model's cosine from the first model's."""
    slope, intercept = np.polyfit(np.asarray(first, np.float64), np.asarray(other, np.float64), 1)
    return float(slope), float(intercept)


def band_edges(first: np.ndarray, fused: np.ndarray, imputed_fused: np.ndarray, labels: np.ndarray,
               thresholds: Sequence[float], max_lost: int, max_gained: Sequence[int]) -> tuple[float, float]:
    """The narrowest band [low, high] of first-model cosines such that deciding outside it on the
    imputed score, at every threshold, rejects at most `max_lost` genuine pairs the fusion accepts and
    accepts at most `max_gained[k]` impostors it rejects at `thresholds[k]` (half below, half above)."""
    order = np.argsort(np.asarray(first, np.float64), kind="stable")
    s = np.asarray(first, np.float64)[order]
    fused, imputed, genuine = fused[order], imputed_fused[order], np.asarray(labels, bool)[order]
    low_count, high_start = len(s), 0
    for t, gained_allowed in zip(thresholds, max_gained, strict=True):
        harm = np.stack([genuine & (fused >= t) & (imputed < t), ~genuine & (fused < t) & (imputed >= t)])
        allowed = np.array([max_lost, gained_allowed], np.float64)[:, None] / 2
        below = np.asarray(np.cumsum(harm, axis=1) <= allowed)  # deciding pairs [0, i] alone stays within budget
        low_count = min(low_count, int(np.argmin(below.all(axis=0))) if not below.all() else len(s))
        above = np.cumsum(harm[:, ::-1], axis=1)[:, ::-1] <= allowed  # deciding pairs [i, n) alone
        ok = np.asarray(above.all(axis=0))
        high_start = max(high_start, len(s) - int(np.argmin(ok[::-1])) if not ok.all() else 0)
    low = float(np.nextafter(s[low_count - 1], np.inf)) if low_count > 0 else float("-inf")
    high = float(np.nextafter(s[high_start], -np.inf)) if high_start < len(s) else float("inf")
    return low, max(low, high)
