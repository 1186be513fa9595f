"""Score-level fusion of several recognisers by logistic regression.

Impostor scores of SFace and dlib correlate only weakly, so a weighted sum of their cosines
separates better than either alone. The weights are fitted on LFW View 1 DevTrain (never DevTest)
by Newton's method with a small L2 penalty; the fused score is the logit (log-odds at an even
prior), so higher means more similar and thresholds come from the calibration, not from 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LogisticFusion:
    """fused = bias + sum(weight_m * cosine_m) over the named models."""

    models: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def fuse(self, scores: Mapping[str, float]) -> float:
        """Fuse one comparison's per-model cosines."""
        missing = [m for m in self.models if m not in scores]
        if missing:
            raise KeyError(f"fusion needs scores from {missing}")
        return float(self.bias + sum(w * float(scores[m]) for m, w in zip(self.models, self.weights, strict=True)))

    def fuse_matrix(self, columns: np.ndarray) -> np.ndarray:
        """Fuse an (n, len(models)) array of cosines, columns in `models` order."""
        fused: np.ndarray = np.asarray(columns, np.float64) @ np.asarray(self.weights) + self.bias
        return fused

    def template_weights(self) -> dict[str, float]:
        """sqrt(weight) per model: scaling unit embeddings by these makes one inner product equal the
        weighted sum, so an exact inner-product index can rank by the fused score."""
        return {m: float(np.sqrt(max(w, 0.0))) for m, w in zip(self.models, self.weights, strict=True)}

    def to_dict(self) -> dict[str, object]:
        return {"models": list(self.models), "weights": list(self.weights), "bias": self.bias}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LogisticFusion:
        models = tuple(str(m) for m in data["models"])  # type: ignore[attr-defined]
        weights = tuple(float(w) for w in data["weights"])  # type: ignore[attr-defined]
        if len(models) != len(weights) or not models:
            raise ValueError("fusion needs one weight per model")
        return cls(models=models, weights=weights, bias=float(data["bias"]))  # type: ignore[arg-type]


def fit_logistic(features: np.ndarray, labels: np.ndarray, l2: float = 1e-3,
                 iterations: int = 100) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression, by Newton-Raphson."""
    x = np.asarray(features, np.float64)
    y = np.asarray(labels, np.float64)
    if x.ndim != 2 or len(x) != len(y) or len(np.unique(y)) != 2:
        raise ValueError("need an (n, k) feature array and labels of both classes")
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        grad = design.T @ (p - y) + penalty * theta
        hess = design.T @ (design * (p * (1 - p))[:, None]) + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return theta[:-1], float(theta[-1])


def fit_fusion(models: Sequence[str], features: np.ndarray, labels: np.ndarray) -> LogisticFusion:
    """A LogisticFusion fitted on per-model cosines (columns in `models` order)."""
    weights, bias = fit_logistic(features, labels)
    return LogisticFusion(models=tuple(models), weights=tuple(float(w) for w in weights), bias=bias)
