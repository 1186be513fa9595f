"""The one shape of a passive presentation-attack detector, shared by every backend module.

Backends (one module each: `minifasnet.py`, `passive.py` for the cue scorer) depend on this module
only, and `passive_backends.py` chooses one by name: no backend imports another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from facekyc.vision.detect import Face
from facekyc.vision.liveness.types import LivenessReason


@dataclass(frozen=True)
class PassiveScore:
    """One frame's verdict: score (higher = more likely live), the raw cues and the kind of attack."""

    score: float
    live: bool
    cues: dict[str, float] = field(default_factory=dict)
    reason: LivenessReason | None = None


@runtime_checkable
class PassiveDetector(Protocol):
    """Scores one face in one frame as live or attack, and states its own threshold."""

    name: str
    threshold: float  # scores below it are attacks

    def score(self, bgr: np.ndarray, face: Face) -> PassiveScore:
        """Score one face in one BGR frame (thread-safe: request threads share one detector)."""
        ...


PassiveScorer = PassiveDetector  # the protocol's former name, kept for callers and tests
