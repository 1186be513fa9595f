"""The face crop a reviewer looks at: the subject's face aligned upright, with some head and shoulders
around it, as a small JPEG (never the whole picture)."""

from __future__ import annotations

import numpy as np

from facekyc.vision.align import ARCFACE_TEMPLATE_112, warp_to_template
from facekyc.vision.detect import Face
from facekyc.vision.image import encode_jpeg

CROP_SIZE = (200, 240)  # width, height: a passport-like portrait
_SCALE = 1.3  # the 112 px template scaled up, so the crop shows the face with a margin


def _template() -> np.ndarray:
    width, height = CROP_SIZE
    side = 112 * _SCALE
    offset = np.array([(width - side) / 2.0, (height - side) / 2.0])
    placed: np.ndarray = ARCFACE_TEMPLATE_112 * _SCALE + offset
    return placed


def face_crop_jpeg(bgr: np.ndarray, face: Face, quality: int = 85) -> bytes | None:
    """The face region of `bgr`, eyes level, at a fixed size: enough for a person to compare faces.

    None when the landmarks cannot place a face (degenerate points): evidence is never worth a failure."""
    try:
        aligned = warp_to_template(bgr, face.landmarks, _template(), CROP_SIZE)
    except ValueError:
        return None
    return encode_jpeg(aligned, quality=quality)
