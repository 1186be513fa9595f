"""DET plots on normal-deviate (probit) axes, as in NIST evaluations.

On probit axes two normal score distributions give a straight line, which makes systems easy to
compare at low error rates. Figures are drawn on an Agg canvas without pyplot, so no display or
global backend state is involved. The same plot serves verification (FMR/FNMR) and PAD
(APCER/BPCER) by changing the axis labels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from statistics import NormalDist

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["DET_TICKS", "plot_det", "probit"]

DET_TICKS: tuple[float, ...] = (
    1e-6, 1e-5, 1e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.4, 0.5, 0.6, 0.8, 0.9, 0.95, 0.99,
)  # fmt: skip
# Fewer ticks when an axis spans many decades, so the labels do not collide.
_SPARSE_TICKS: tuple[float, ...] = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 5e-2, 0.2, 0.5, 0.8, 0.95, 0.99)
_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
_STANDARD_NORMAL = NormalDist()


def probit(rates: npt.ArrayLike, epsilon: float = 1e-6) -> npt.NDArray[np.float64]:
    """Normal deviate of each rate; 0 and 1 are clipped to [epsilon, 1 - epsilon] first."""
    arr = np.clip(np.asarray(rates, dtype=np.float64), epsilon, 1.0 - epsilon)
    flat = [_STANDARD_NORMAL.inv_cdf(float(p)) for p in arr.reshape(-1)]
    return np.asarray(flat, dtype=np.float64).reshape(arr.shape)


def _percent(rate: float) -> str:
    """Tick label such as '0.01%' or '20%'."""
    return f"{rate * 100:g}%"


def _axis_range(values: Iterable[float], high_floor: float, epsilon: float) -> tuple[float, float]:
    """Axis limits: from the decade below the smallest non-zero rate up to a tick >= high_floor."""
    vals = [v for v in values if math.isfinite(v)]
    positive = [v for v in vals if v > 0.0]
    low = 10.0 ** math.floor(math.log10(min(positive))) if positive else 1e-3
    low = min(max(low, epsilon), 0.1)
    wanted = max([high_floor, *vals])
    high = next((t for t in DET_TICKS if t >= wanted), DET_TICKS[-1])
    return low, high


def _ticks(low: float, high: float) -> list[float]:
    """Tick rates inside [low, high]; sparse when the axis spans more than three decades."""
    choices = _SPARSE_TICKS if math.log10(high / low) > 3 else DET_TICKS
    return [t for t in choices if low <= t <= high]


def plot_det(
    curves: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]],
    path: Path,
    title: str,
    x_label: str = "False match rate (FMR)",
    y_label: str = "False non-match rate (FNMR)",
    operating_points: Mapping[str, tuple[float, float]] | None = None,
    *,
    epsilon: float = 1e-6,
    figsize: tuple[float, float] = (6.0, 6.0),
    dpi: int = 100,
) -> Path:
    """Draw one DET line per curve (x rates, y rates) plus marked operating points; return `path`.

    Zero rates are clipped to `epsilon`, so a curve reaching 0 leaves the plot at the edge instead
    of vanishing. The image is figsize * dpi pixels; the format follows the file suffix.
    """
    points = dict(operating_points or {})
    if not curves and not points:
        raise ValueError("nothing to plot: no curves and no operating points")
    cleaned: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}
    for name, (xs, ys) in curves.items():
        x = np.asarray(xs, dtype=np.float64).reshape(-1)
        y = np.asarray(ys, dtype=np.float64).reshape(-1)
        if x.shape != y.shape:
            raise ValueError(f"curve {name!r}: x and y lengths differ ({x.size} vs {y.size})")
        keep = np.isfinite(x) & np.isfinite(y)
        cleaned[name] = (x[keep], y[keep])

    # Axis ranges come from the curves' non-zero rates; operating points must stay visible.
    x_low, x_high = _axis_range(
        [*(v for x, _ in cleaned.values() for v in x.tolist() if v < 0.5), *(p[0] for p in points.values())],
        0.5,
        epsilon,
    )
    y_low, y_high = _axis_range(
        [*(v for _, y in cleaned.values() for v in y.tolist() if v < 0.5), *(p[1] for p in points.values())],
        0.5,
        epsilon,
    )

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for name, (x, y) in cleaned.items():
        ax.plot(probit(x, epsilon), probit(y, epsilon), label=name, linewidth=1.5)
    # FMR = FNMR diagonal: where a curve crosses it is that curve's EER.
    low, high = min(x_low, y_low), max(x_high, y_high)
    ax.plot(probit([low, high], epsilon), probit([low, high], epsilon), ":", color="0.6", linewidth=1)
    for i, (name, (px, py)) in enumerate(points.items()):
        ax.plot(
            probit([px], epsilon),
            probit([py], epsilon),
            linestyle="none",
            marker=_MARKERS[i % len(_MARKERS)],
            markersize=7,
            markeredgecolor="black",
            label=name,
        )

    x_ticks = _ticks(x_low, x_high)
    y_ticks = _ticks(y_low, y_high)
    ax.set_xticks(probit(x_ticks, epsilon).tolist(), [_percent(t) for t in x_ticks])
    ax.set_yticks(probit(y_ticks, epsilon).tolist(), [_percent(t) for t in y_ticks])
    ax.set_xlim(float(probit([x_low], epsilon)[0]), float(probit([x_high], epsilon)[0]))
    ax.set_ylim(float(probit([y_low], epsilon)[0]), float(probit([y_high], epsilon)[0]))
    ax.tick_params(axis="x", labelrotation=45)
    ax.grid(True, linestyle="--", linewidth=0.5, alpha=0.6)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
