"""The liveness contract shared by the checks, the capture-session service and the kiosk."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from facekyc.vision.engine import FaceAnalysis


class Challenge(str, Enum):  # noqa: UP042  (str mixin: values compare equal to plain strings)
    """One prompted action. Directions are the SUBJECT'S OWN: `turn_left` means the person turns
    toward their own left shoulder, which on a non-mirrored camera image moves the face toward
    image RIGHT. The kiosk preview is mirrored, so on screen it looks like the prompt's direction."""

    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    LOOK_UP = "look_up"
    LOOK_DOWN = "look_down"
    BLINK = "blink"
    OPEN_MOUTH = "open_mouth"


class LivenessReason(str, Enum):  # noqa: UP042
    """Stable reason codes of a `not_live` result."""

    TOO_FEW_FRAMES = "too_few_frames"
    TOO_FAST = "too_fast"
    TIMING_IMPLAUSIBLE = "timing_implausible"
    FRAMES_DUPLICATED = "frames_duplicated"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    IDENTITY_CHANGED = "identity_changed"
    CHALLENGE_NOT_PERFORMED = "challenge_not_performed"
    WRONG_ORDER = "wrong_order"
    PLANAR_MOTION = "planar_motion"
    SCREEN_DETECTED = "screen_detected"
    PRINT_DETECTED = "print_detected"
    PASSIVE_ATTACK = "passive_attack"
    LOW_QUALITY = "low_quality"


@dataclass(frozen=True)
class CapturedFrame:
    """One frame as uploaded: BGR pixels and the client's timestamp in milliseconds."""

    bgr: np.ndarray
    t_ms: float


@dataclass(frozen=True)
class StepResult:
    """What was seen for one challenge step: when it happened and how strongly."""

    challenge: Challenge
    performed: bool
    start_ms: float | None
    peak_value: float
    detail: str = ""


@dataclass(frozen=True)
class LivenessResult:
    """The verdict, every check's score, and the best frontal frame's analysis (the live face)."""

    live: bool
    reasons: list[LivenessReason]
    scores: dict[str, float]
    steps: list[StepResult]
    best_frame_index: int | None
    best: FaceAnalysis | None
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def decision(self) -> str:
        return "live" if self.live else "not_live"

    def to_dict(self) -> dict[str, object]:
        return {
            "decision": self.decision,
            "reasons": [r.value for r in self.reasons],
            "scores": {k: round(float(v), 4) for k, v in self.scores.items()},
            "steps": [{"challenge": s.challenge.value, "performed": s.performed, "start_ms": s.start_ms,
                       "peak": round(s.peak_value, 4), "detail": s.detail} for s in self.steps],
            "best_frame_index": self.best_frame_index,
        }
