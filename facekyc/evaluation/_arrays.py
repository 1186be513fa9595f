"""Small array helpers shared by the metric modules (input checking, rate keys)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Slack for comparing "count <= target * n", so that e.g. 1 error in 1000 meets a 1e-3 target.
RATE_TOLERANCE = 1e-9


def as_scores(values: npt.ArrayLike, name: str, *, allow_nan: bool = False) -> FloatArray:
    """Return `values` as a 1-D float64 array, rejecting infinities (and NaN unless allowed)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if bool(bad.any()):
        what = "infinite" if allow_nan else "NaN or infinite"
        raise ValueError(f"{name} contains {int(bad.sum())} {what} value(s)")
    return arr


def require_nonempty(arr: FloatArray, name: str) -> None:
    """Rates over an empty set are undefined, so refuse them loudly."""
    if arr.size == 0:
        raise ValueError(f"{name} is empty")


def check_rate(value: float, name: str) -> float:
    """Targets are probabilities; anything outside [0, 1] is a caller bug."""
    value = float(value)
    if not (0.0 <= value <= 1.0) or math.isnan(value):
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return value


def rate_key(rate: float) -> str:
    """Stable dictionary key for an operating point, e.g. 0.001 -> '1e-03'."""
    return f"{rate:.0e}"


def count_ge(sorted_values: FloatArray, thresholds: FloatArray) -> npt.NDArray[np.intp]:
    """How many of `sorted_values` are >= each threshold (binary search, O(m log n))."""
    return sorted_values.size - np.searchsorted(sorted_values, thresholds, side="left")


def count_lt(sorted_values: FloatArray, thresholds: FloatArray) -> npt.NDArray[np.intp]:
    """How many of `sorted_values` are < each threshold."""
    return np.searchsorted(sorted_values, thresholds, side="left")


def json_float(value: float) -> float | None:
    """JSON has no NaN; map it to null so reports stay standard JSON."""
    return None if math.isnan(value) else float(value)
