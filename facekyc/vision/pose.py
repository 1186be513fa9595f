"""Head pose (yaw, pitch, roll in degrees) estimated from the 5 landmarks alone.

Roll is the angle of the eye line. Yaw and pitch come from where the nose tip sits relative to the
eyes and mouth: on a frontal face the nose tip is midway between the eyes horizontally and about
halfway from the eye line to the mouth line. The nose tip stands out of the eye/mouth plane by
roughly half the inter-eye distance, so its sideways shift is ~ 0.5 * IED * tan(yaw). Signs are in
the image frame: positive yaw = nose toward image right; positive pitch = face tilted up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

NOSE_DEPTH_RATIO = 0.5  # nose-tip protrusion / inter-eye distance, average adult
FRONTAL_NOSE_HEIGHT = 0.49  # (nose - eyes) / (mouth - eyes) on the ArcFace mean face
PITCH_GAIN = 1.1  # vertical depth of the nose relative to the eye-mouth distance


@dataclass(frozen=True)
class HeadPose:
    yaw: float
    pitch: float
    roll: float


def estimate_pose(landmarks: np.ndarray) -> HeadPose:
    """Yaw, pitch and roll in degrees from (5, 2) landmarks in YuNet order."""
    pts = np.asarray(landmarks, np.float64)
    right_eye, left_eye, nose = pts[0], pts[1], pts[2]
    mouth = (pts[3] + pts[4]) / 2.0
    eye_vec = left_eye - right_eye
    roll = math.degrees(math.atan2(eye_vec[1], eye_vec[0]))
    # undo roll so that yaw/pitch are measured along the face's own axes
    c, s = math.cos(-math.radians(roll)), math.sin(-math.radians(roll))
    rot = np.array([[c, -s], [s, c]])
    eye_mid = (right_eye + left_eye) / 2.0
    n = rot @ (nose - eye_mid)
    m = rot @ (mouth - eye_mid)
    ied = max(float(np.linalg.norm(eye_vec)), 1e-6)
    yaw = math.degrees(math.atan2(n[0] / ied, NOSE_DEPTH_RATIO))
    height = max(float(m[1]), 1e-6)
    pitch = math.degrees(math.atan((FRONTAL_NOSE_HEIGHT - n[1] / height) * PITCH_GAIN * 2.0))
    return HeadPose(yaw=yaw, pitch=pitch, roll=roll)
