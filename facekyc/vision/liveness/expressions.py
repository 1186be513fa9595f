"""Eye openness and mouth opening measured in a landmark-aligned crop, with no trained model.

YuNet gives eye centres and mouth corners but no eyelids or lips, and the usual dense landmark models
are either unlicensable (dlib's 68 points) or too heavy to ship (MediaPipe). The face is therefore
warped by its 5 landmarks onto the ArcFace template, padded to 128x144 so an open jaw stays in view,
and two texture measures are read at fixed places:

- eye openness: mean absolute vertical intensity gradient in a 24x16 window on each eye, divided by
  the cheek brightness below it. An open eye shows two lid edges, the dark iris and the white sclera;
  a closed one is a smooth skin fold with one lash line, so the value drops by ~30 %.
- mouth opening: grey-level spread plus dark-cavity share between the mouth corners, both relative
  to the nose-bridge brightness. A closed mouth is lips on skin; an open one adds the dark cavity,
  teeth and tongue.

Neither value means anything across people or lighting; they are only compared with the same
person's other frames in the same session (see `challenge.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facekyc.vision.align import ARCFACE_TEMPLATE_112, warp_to_template

PAD = 8.0
CROP_SIZE = (128, 144)  # (w, h): the 112x112 ArcFace crop padded by 8 px left/right/top, 24 below
TEMPLATE = ARCFACE_TEMPLATE_112 + PAD
EYE_HALF_W, EYE_HALF_H = 12, 8
DARK_CAVITY = 0.55  # a pixel darker than this share of the skin level counts as mouth cavity


@dataclass(frozen=True)
class Expression:
    """Per-frame raw measures (session-relative meaning only)."""

    eye_right: float
    eye_left: float
    mouth: float


def expression_crop(bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Grey 128x144 crop with the landmarks on the padded ArcFace template, lightly smoothed."""
    crop = warp_to_template(bgr, landmarks, TEMPLATE, CROP_SIZE)
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    return cv2.GaussianBlur(gray, (3, 3), 0).astype(np.float32)


def measure_expression(bgr: np.ndarray, landmarks: np.ndarray) -> Expression:
    """Eye openness (per eye) and mouth opening of one face."""
    gray = expression_crop(bgr, landmarks)
    return Expression(eye_right=_eye(gray, TEMPLATE[0]), eye_left=_eye(gray, TEMPLATE[1]), mouth=_mouth(gray))


def _eye(gray: np.ndarray, centre: np.ndarray) -> float:
    x, y = round(float(centre[0])), round(float(centre[1]))
    patch = gray[y - EYE_HALF_H:y + EYE_HALF_H, x - EYE_HALF_W:x + EYE_HALF_W]
    cheek = gray[y + 14:y + 26, x - 10:x + 10]
    skin = max(float(np.median(cheek)), 10.0)
    return float(np.abs(np.diff(patch, axis=0)).mean() / skin * 100.0)


def _mouth(gray: np.ndarray) -> float:
    x0, x1 = int(TEMPLATE[3][0]) + 4, int(TEMPLATE[4][0]) - 4
    y = int((TEMPLATE[3][1] + TEMPLATE[4][1]) / 2)
    region = gray[y - 8:y + 30, x0:x1]
    ny = int(TEMPLATE[2][1])
    skin = max(float(np.median(gray[ny - 14:ny - 2, 44:84])), 10.0)  # nose bridge: lit like the mouth
    spread = float(region.std()) / skin
    cavity = float((region < DARK_CAVITY * skin).mean())
    return (spread + cavity) / 2.0
