"""Scores people understand: an estimated false-match rate in words and the margin to the threshold."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

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


def fmr_in_words(fmr: float) -> str:
    """ "about 1 in 1.2 million": how often two different people score at least this high."""
    if not math.isfinite(fmr) or fmr <= 0:
        return "not estimated"
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


def explain_score(score: float, threshold: float, estimated_fmr: float) -> ExplainedScore:
    """One sentence a reviewer or clerk can read, plus the numbers it is made of."""
    margin = score - threshold
    side = "above" if margin >= 0 else "below"
    words = fmr_in_words(estimated_fmr)
    summary = (f"score {score:.3f} is {abs(margin):.3f} {side} the threshold {threshold:.3f}; "
               f"{words} comparisons of two different people score this high")
    return ExplainedScore(round(score, 4), round(threshold, 4), round(margin, 4), estimated_fmr, words, summary)
