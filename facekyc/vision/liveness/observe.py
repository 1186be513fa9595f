"""Per-frame observations: the subject's face, head pose, eye and mouth measures (detector only).

This is the only pass over every frame, so it uses `FaceEngine.detect` (~10 ms) and never the
recognisers; embeddings are computed later on the few frames that need them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from facekyc.errors import FaceTooSmall, NoFace
from facekyc.vision.detect import Face
from facekyc.vision.engine import SECOND_FACE_AREA_RATIO, FaceEngine, select_subject
from facekyc.vision.liveness.expressions import measure_expression
from facekyc.vision.liveness.types import CapturedFrame
from facekyc.vision.pose import estimate_pose

RIVAL_MIN_SCORE = 0.8


@dataclass(frozen=True)
class FrameObservation:
    """What one frame shows. Pose angles and measures are NaN when no usable face was found."""

    index: int
    t_ms: float
    face: Face | None
    rivals: int
    yaw: float = math.nan
    pitch: float = math.nan
    roll: float = math.nan
    eye_right: float = math.nan
    eye_left: float = math.nan
    mouth: float = math.nan

    @property
    def has_face(self) -> bool:
        return self.face is not None


def observe_frame(engine: FaceEngine, frame: CapturedFrame, index: int) -> FrameObservation:
    """Detect the subject (largest, most central face) and measure pose and expression."""
    faces = engine.detect(frame.bgr)
    h, w = frame.bgr.shape[:2]
    try:
        face = select_subject(faces, w, h, "primary")
    except (NoFace, FaceTooSmall):
        return FrameObservation(index=index, t_ms=frame.t_ms, face=None, rivals=0)
    rivals = sum(1 for f in faces if f is not face and f.score >= RIVAL_MIN_SCORE
                 and f.area >= SECOND_FACE_AREA_RATIO * face.area)
    pose = estimate_pose(face.landmarks)
    expr = measure_expression(frame.bgr, face.landmarks)
    return FrameObservation(index=index, t_ms=frame.t_ms, face=face, rivals=rivals, yaw=pose.yaw,
                            pitch=pose.pitch, roll=pose.roll, eye_right=expr.eye_right, eye_left=expr.eye_left,
                            mouth=expr.mouth)


def observe_frames(engine: FaceEngine, frames: Sequence[CapturedFrame]) -> list[FrameObservation]:
    """One observation per frame, in order."""
    return [observe_frame(engine, frame, i) for i, frame in enumerate(frames)]
