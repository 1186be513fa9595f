"""Face image quality in the spirit of ISO/IEC 29794-5: each component a number, a limit, a hint.

A clerk cannot act on "quality 0.41"; they can act on "too dark: add light". Every component
therefore carries the measured value, the limit it was held to and, when it fails, the plain-words
fix. Limits depend on the capture: a live camera frame is held to stricter limits than a 100x120
chip portrait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from facekyc.vision.align import arcface_crop
from facekyc.vision.detect import Face
from facekyc.vision.pose import estimate_pose

Purpose = Literal["live", "document", "any"]


@dataclass(frozen=True)
class QualityLimits:
    """Pass limits for one kind of capture."""

    min_inter_eye_px: float
    min_sharpness: float
    min_brightness: float
    max_brightness: float
    max_clipped: float
    min_contrast: float
    max_yaw: float
    max_pitch: float
    max_roll: float
    min_confidence: float


LIMITS: dict[str, QualityLimits] = {
    "live": QualityLimits(min_inter_eye_px=48, min_sharpness=40.0, min_brightness=55, max_brightness=215,
                          max_clipped=0.25, min_contrast=18, max_yaw=25, max_pitch=25, max_roll=20,
                          min_confidence=0.7),
    "document": QualityLimits(min_inter_eye_px=18, min_sharpness=15.0, min_brightness=40, max_brightness=230,
                              max_clipped=0.35, min_contrast=12, max_yaw=20, max_pitch=20, max_roll=20,
                              min_confidence=0.6),
    "any": QualityLimits(min_inter_eye_px=18, min_sharpness=15.0, min_brightness=35, max_brightness=235,
                         max_clipped=0.4, min_contrast=10, max_yaw=45, max_pitch=40, max_roll=35,
                         min_confidence=0.6),
}


@dataclass(frozen=True)
class QualityComponent:
    """One measured aspect of the face image."""

    name: str
    value: float
    limit: str
    passed: bool
    hint: str | None = None


@dataclass(frozen=True)
class QualityReport:
    """All components; `passed` only when every one passed. `hints` lists what to fix, worst first."""

    purpose: str
    components: list[QualityComponent] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.components)

    @property
    def hints(self) -> list[str]:
        return [c.hint for c in self.components if not c.passed and c.hint]

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.components if not c.passed]

    def value(self, name: str) -> float:
        return next(c.value for c in self.components if c.name == name)

    def to_dict(self) -> dict[str, object]:
        return {
            "purpose": self.purpose,
            "passed": self.passed,
            "failed": self.failed,
            "hints": self.hints,
            "components": {c.name: {"value": round(c.value, 3), "limit": c.limit, "passed": c.passed}
                           for c in self.components},
        }


def assess_quality(bgr: np.ndarray, face: Face, purpose: Purpose = "any",
                   crop: np.ndarray | None = None) -> QualityReport:
    """Measure every component on the aligned face crop (so values do not depend on image size)."""
    lim = LIMITS[purpose]
    aligned = crop if crop is not None else arcface_crop(bgr, face.landmarks)
    gray = cv2.cvtColor(aligned, cv2.COLOR_BGR2GRAY)
    inner = gray[24:104, 20:92]  # eyes-to-chin region: excludes background at the crop's corners
    sharp = float(cv2.Laplacian(cv2.GaussianBlur(inner, (3, 3), 0), cv2.CV_64F).var())
    bright = float(inner.mean())
    clipped = float(((inner <= 8) | (inner >= 247)).mean())
    contrast = float(inner.std())
    pose = estimate_pose(face.landmarks)
    ied = face.inter_eye
    comps = [
        _low("face_size", ied, lim.min_inter_eye_px, "px between the eyes",
             "Face too small: move closer to the camera." if purpose == "live"
             else "Face too small in the photo: use a larger or sharper image."),
        _low("confidence", face.score, lim.min_confidence, "detector confidence",
             "Face not clearly visible: remove anything covering it."),
        _low("sharpness", sharp, lim.min_sharpness, "Laplacian variance",
             "Image blurred: hold still and keep the camera in focus."),
        _low("brightness", bright, lim.min_brightness, "mean grey level", "Too dark: add light in front of the face."),
        _high("overexposure", bright, lim.max_brightness, "mean grey level",
              "Too bright: avoid direct light or glare on the face."),
        _high("clipping", clipped, lim.max_clipped, "share of clipped pixels",
              "Harsh light: parts of the face are pure black or white; use even light."),
        _low("contrast", contrast, lim.min_contrast, "grey-level std", "Low contrast: use even, brighter light."),
        _high("yaw", abs(pose.yaw), lim.max_yaw, "degrees", "Turned away: look straight at the camera."),
        _high("pitch", abs(pose.pitch), lim.max_pitch, "degrees", "Head tilted up or down: look straight ahead."),
        _high("roll", abs(pose.roll), lim.max_roll, "degrees", "Head tilted sideways: keep the head upright."),
    ]
    return QualityReport(purpose=purpose, components=comps)


def _low(name: str, value: float, minimum: float, unit: str, hint: str) -> QualityComponent:
    return QualityComponent(name, float(value), f">= {minimum:g} {unit}", bool(value >= minimum), hint)


def _high(name: str, value: float, maximum: float, unit: str, hint: str) -> QualityComponent:
    return QualityComponent(name, float(value), f"<= {maximum:g} {unit}", bool(value <= maximum), hint)
