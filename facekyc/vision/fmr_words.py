"""Scores people understand: an estimated false-match rate in words and the margin to the threshold."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from facekyc.vision.engine import Scorer

_SCALES = ((1e9, "billion"), (1e6, "million"))


def one_in(fmr: float) -> str:
    """1/fmr to two significant figures, in words: "1.2 million", "12,000", "8"."""
    n = _two_figures(1.0 / fmr)
    for size, word in _SCALES:
        if n >= size:
            return f"{_two_figures(n / size):g} {word}"
    return f"{n:,.0f}" if n >= 10 else f"{n:g}"


def _two_figures(x: float) -> float:
    digits = 1 - math.floor(math.log10(x))
    return round(x, digits)


def estimated_fmr(scorer: Scorer, score: float) -> float:
    """The calibrated share of different-person comparisons scoring at least `score`."""
    return scorer.calibration.scores[scorer.score_name].estimated_fmr(score)


def fmr_floor(scorer: Scorer) -> float:
    """The smallest FMR the calibration data can estimate: scores beyond it are rarer still."""
    return float(scorer.calibration.scores[scorer.score_name].tail_fmr[-1])


def fmr_in_words(fmr: float, floor: float | None = None) -> str:
    """ "about 1 in 1.2 million": how often two different people score at least this high; at the
    calibration's floor "fewer than 1 in ...", since the data cannot tell how much rarer."""
    if not math.isfinite(fmr) or fmr <= 0:
        return "not estimated"
    if floor is not None and fmr <= floor * (1 + 1e-9):
        return f"fewer than 1 in {one_in(floor)}"
    if fmr >= 0.5:
        return "more often than 1 in 2"
    return f"about 1 in {one_in(fmr)}"


@dataclass(frozen=True)
class ExplainedScore:
    """A score with its threshold, the margin between them and the chance that a stranger scores as high."""

    score: float
    threshold: float
    margin: float
    estimated_fmr: float
    fmr_words: str
    summary: str

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self)


def explain_score(score: float, threshold: float, fmr: float, floor: float | None = None) -> ExplainedScore:
    """One sentence a reviewer or clerk can read, plus the numbers it is made of."""
    margin = score - threshold
    side = "above" if margin >= 0 else "below"
    words = fmr_in_words(fmr, floor)
    summary = (f"score {score:.3f} is {abs(margin):.3f} {side} the threshold {threshold:.3f}; "
               f"{words} comparisons of two different people score this high")
    return ExplainedScore(round(score, 4), round(threshold, 4), round(margin, 4), fmr, words, summary)
