"""Calibrated decisions: the operating point is a false match rate, not a raw score.

For each score (each recogniser's cosine, and the fused score) we keep the thresholds at the
supported FMR targets and a sampled upper tail of the impostor distribution, so a score can be
turned back into an estimated FMR. Both were fitted on impostor pairs from LFW View 1 DevTrain
images only (see `bench/fit_calibration.py`); the shipped file records how.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from facekyc.vision.cascade import Cascade
from facekyc.vision.fusion import LogisticFusion

FMR_TARGETS: tuple[float, ...] = (1e-2, 1e-3, 1e-4, 1e-5)
MIN_FMR, MAX_FMR = 1e-5, 1e-2


def fmr_key(fmr: float) -> str:
    """Canonical text of an FMR target, e.g. 0.001 -> '1e-03'."""
    return f"{fmr:.0e}"


@dataclass(frozen=True)
class ScoreCalibration:
    """Thresholds per FMR target and the impostor tail (score ascending, FMR descending)."""

    thresholds: dict[str, float]
    tail_scores: np.ndarray
    tail_fmr: np.ndarray

    def threshold(self, fmr: float) -> float:
        """Threshold for a target FMR in [1e-5, 1e-2]; between stored targets, log-linear."""
        if not MIN_FMR * (1 - 1e-9) <= fmr <= MAX_FMR * (1 + 1e-9):
            raise ValueError(f"FMR target must be between {MIN_FMR:g} and {MAX_FMR:g}")
        fmr = min(max(fmr, MIN_FMR), MAX_FMR)
        key = fmr_key(fmr)
        if key in self.thresholds and math.isclose(float(key), fmr, rel_tol=1e-9):
            return self.thresholds[key]
        points = sorted((float(k), v) for k, v in self.thresholds.items())
        logs = np.log10([p[0] for p in points])
        return float(np.interp(math.log10(fmr), logs, [p[1] for p in points]))

    def estimated_fmr(self, score: float) -> float:
        """Share of impostor comparisons expected to score at least this high (floored at the data)."""
        if score <= self.tail_scores[0]:
            return float(self.tail_fmr[0])
        if score >= self.tail_scores[-1]:
            return float(self.tail_fmr[-1])
        return float(10 ** np.interp(score, self.tail_scores, np.log10(self.tail_fmr)))

    def to_dict(self) -> dict[str, object]:
        return {"thresholds": self.thresholds, "tail": [[round(float(s), 6), float(f)]
                                                        for s, f in zip(self.tail_scores, self.tail_fmr,
                                                                        strict=True)]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreCalibration:
        tail = np.asarray(data["tail"], np.float64)
        return cls(thresholds={str(k): float(v) for k, v in data["thresholds"].items()},
                   tail_scores=tail[:, 0], tail_fmr=tail[:, 1])


def fit_score_calibration(impostor: np.ndarray, targets: tuple[float, ...] = FMR_TARGETS,
                          tail_points: int = 60) -> ScoreCalibration:
    """Empirical thresholds: the lowest score t with #(impostor >= t)/n <= target, strictly above
    the impostor score ranked just inside the target (ties go to non-match)."""
    scores = np.sort(np.asarray(impostor, np.float64))[::-1]  # descending
    n = len(scores)
    thresholds: dict[str, float] = {}
    for target in targets:
        allowed = math.floor(target * n)  # impostors allowed at or above the threshold
        if allowed < 1:
            raise ValueError(f"{n} impostor scores cannot support an FMR of {target:g}")
        boundary = scores[allowed]  # the first impostor that must be rejected
        thresholds[fmr_key(target)] = float(np.nextafter(boundary, np.inf))
    fmr_grid = np.logspace(math.log10(max(1.0 / n, MIN_FMR / 10)), 0, tail_points)[::-1]
    idx = np.clip((fmr_grid * n).astype(int) - 1, 0, n - 1)
    tail_scores = scores[idx][::-1]
    tail_fmr = ((idx + 1) / n)[::-1]
    order = np.argsort(tail_scores, kind="stable")
    return ScoreCalibration(thresholds=thresholds, tail_scores=tail_scores[order], tail_fmr=tail_fmr[order])


@dataclass(frozen=True)
class Calibration:
    """Fusion weights plus a ScoreCalibration for each model and for the fused score."""

    fusion: LogisticFusion
    scores: dict[str, ScoreCalibration]
    provenance: dict[str, Any]
    cascade: Cascade | None = None

    def to_json(self) -> str:
        data: dict[str, Any] = {"version": 1, "fusion": self.fusion.to_dict(),
                                "scores": {k: v.to_dict() for k, v in self.scores.items()}}
        if self.cascade is not None:
            data["cascade"] = self.cascade.to_dict()
        data["provenance"] = self.provenance
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        data = json.loads(text)
        if data.get("version") != 1:
            raise ValueError("unsupported calibration file version")
        return cls(fusion=LogisticFusion.from_dict(data["fusion"]),
                   scores={k: ScoreCalibration.from_dict(v) for k, v in data["scores"].items()},
                   provenance=dict(data.get("provenance", {})),
                   cascade=Cascade.from_dict(data["cascade"]) if "cascade" in data else None)

    @classmethod
    def load(cls, path: Path | None = None) -> Calibration:
        """The given file, or the one shipped with facekyc."""
        if path is not None:
            return cls.from_json(Path(path).read_text())
        return cls.from_json(resources.files("facekyc.vision").joinpath("data", "calibration.json").read_text())
