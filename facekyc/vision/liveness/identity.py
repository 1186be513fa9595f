"""Identity consistency: the face that performed the challenge is the face that gets registered.

A swap mid-session (a live accomplice does the head turns, then a photo of the customer is shown)
is caught by embedding a few frames spread over the session and comparing each with the best
frontal frame at a lenient operating point (FMR 1e-2): pose and blur lower genuine scores, and a
false `identity_changed` would reject an honest customer, while a different person still scores far
below that threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facekyc.errors import FaceKycError
from facekyc.vision.engine import FaceAnalysis, FaceEngine
from facekyc.vision.liveness.observe import FrameObservation
from facekyc.vision.liveness.types import CapturedFrame

IDENTITY_FMR = 1e-2
SPREAD_FRAMES = 3
MAX_YAW_FOR_EMBEDDING = 25.0


@dataclass(frozen=True)
class IdentityReport:
    """Lowest comparison score against the best frame and whether every compared frame matched."""

    consistent: bool
    min_score: float
    threshold: float
    compared: list[int]
    analyses: dict[int, FaceAnalysis]


def spread_frames(obs: Sequence[FrameObservation], exclude: int, count: int = SPREAD_FRAMES) -> list[int]:
    """The most frontal face in each of `count` equal time slices of the session (not `exclude`)."""
    seen = [i for i, o in enumerate(obs) if o.face is not None and i != exclude]
    if not seen:
        return []
    chosen: list[int] = []
    for part in np.array_split(np.array(seen), min(count, len(seen))):
        if part.size:
            chosen.append(int(min(part, key=lambda i: abs(obs[int(i)].yaw) + abs(obs[int(i)].pitch))))
    return chosen


def check_identity(engine: FaceEngine, frames: Sequence[CapturedFrame], obs: Sequence[FrameObservation],
                   best: FaceAnalysis, best_pos: int) -> IdentityReport:
    """Embed frames spread over the session and compare each with the best frame."""
    threshold = engine.scorer.threshold(IDENTITY_FMR)
    analyses: dict[int, FaceAnalysis] = {}
    scores: list[float] = []
    compared: list[int] = []
    for pos in spread_frames(obs, best_pos):
        try:
            analysis = engine.analyse(frames[obs[pos].index].bgr, purpose="any", policy="primary")
        except FaceKycError:
            continue
        analyses[pos] = analysis
        scores.append(engine.scorer.compare(best.embeddings, analysis.embeddings, IDENTITY_FMR).score)
        compared.append(pos)
    min_score = min(scores) if scores else float("nan")
    consistent = all(s >= threshold for s in scores)
    return IdentityReport(consistent, min_score, threshold, compared, analyses)
