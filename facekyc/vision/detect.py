"""Face detection with 5 landmarks: YuNet by default, dlib HOG + 5-point shapes as the fallback.

Landmark order everywhere in facekyc (YuNet's): the subject's right eye (image left), left eye,
nose tip, right mouth corner, left mouth corner.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from facekyc.vision import models

DETECT_MAX_SIDE = 640  # every detector works on a copy whose longer side is at most this (the pixel budget)
DLIB_UPSAMPLE_MAX_SIDE = 400  # dlib upsamples 2x (to find faces of 40 px) only copies this small or smaller


@dataclass(frozen=True)
class Face:
    """One detected face: box (x, y, w, h), five landmarks (5, 2), confidence and who found it."""

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float
    detector: str = "yunet"

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]

    @property
    def inter_eye(self) -> float:
        """Distance between the eye centres in pixels (the usual face-size measure)."""
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))

    @property
    def center(self) -> tuple[float, float]:
        x, y, w, h = self.box
        return x + w / 2.0, y + h / 2.0

    def yunet_row(self) -> np.ndarray:
        """The 15-float row layout OpenCV's FaceRecognizerSF.alignCrop expects."""
        return np.concatenate([np.array(self.box, np.float32), self.landmarks.astype(np.float32).ravel(),
                               np.array([self.score], np.float32)])


class YuNetDetector:
    """OpenCV FaceDetectorYN; large images are detected on a downscaled copy and mapped back.
    setInputSize + detect mutate the network, so they run under one lock."""

    name = "yunet"

    def __init__(self, score_threshold: float = 0.6, nms_threshold: float = 0.3, top_k: int = 50) -> None:
        self._net: Any = cv2.FaceDetectorYN.create(str(models.yunet_path()), "", (320, 320),
                                                    score_threshold, nms_threshold, top_k)
        self._lock = threading.Lock()

    def detect(self, bgr: np.ndarray) -> list[Face]:
        """All faces, best first."""
        small, scale = work_copy(bgr)
        with self._lock:
            self._net.setInputSize((small.shape[1], small.shape[0]))
            _, rows = self._net.detect(small)
        if rows is None:
            return []
        faces = [_face_from_row(row, 1.0 / scale) for row in rows]
        return sorted(faces, key=lambda f: f.score, reverse=True)


def work_copy(bgr: np.ndarray, max_side: int = DETECT_MAX_SIDE) -> tuple[np.ndarray, float]:
    """The image shrunk so its longer side is at most `max_side` (never enlarged), and the scale used:
    detection costs the same on a 6000x6000 upload as on a 640x640 one."""
    h, w = bgr.shape[:2]
    scale = min(1.0, max_side / max(h, w, 1))
    if scale == 1.0:
        return bgr, 1.0
    return cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA), scale


def _face_from_row(row: np.ndarray, inv: float) -> Face:
    x, y, bw, bh = (float(v) * inv for v in row[:4])
    marks = np.asarray(row[4:14], np.float64).reshape(5, 2) * inv
    return Face(box=(x, y, bw, bh), landmarks=marks, score=float(row[14]), detector="yunet")


class DlibDetector:
    """dlib HOG detector + 5-point predictor; mouth corners estimated from eyes and nose.

    dlib's object detector keeps scratch buffers in the object, so concurrent calls corrupt the heap
    (issue 9: two faceless uploads at once killed the server): every native call holds one lock."""

    name = "dlib"

    def __init__(self) -> None:
        import dlib

        self._detector: Any = dlib.get_frontal_face_detector()
        self._shapes: Any = dlib.shape_predictor(str(models.dlib_five_point_path()))
        self._dlib = dlib
        self._lock = threading.Lock()

    def detect(self, bgr: np.ndarray) -> list[Face]:
        """All faces found by HOG on the work copy (upsampled 2x only when that copy is small), best first."""
        small, scale = work_copy(bgr)
        rgb = np.ascontiguousarray(small[:, :, ::-1])
        upsample = 1 if max(rgb.shape[:2]) <= DLIB_UPSAMPLE_MAX_SIDE else 0
        inv = 1.0 / scale
        faces = []
        with self._lock:
            rects, scores, _ = self._detector.run(rgb, upsample, -0.2)
            shapes = [self._shapes(rgb, rect).parts() for rect in rects]
        for rect, score, parts in zip(rects, scores, shapes, strict=True):
            pts = np.array([(p.x, p.y) for p in parts], np.float64) * inv
            faces.append(Face(box=(rect.left() * inv, rect.top() * inv, rect.width() * inv, rect.height() * inv),
                              landmarks=five_from_dlib(pts), score=float(1.0 / (1.0 + np.exp(-score))),
                              detector="dlib"))
        return sorted(faces, key=lambda f: f.score, reverse=True)


def five_from_dlib(pts: np.ndarray) -> np.ndarray:
    """dlib's 5 points (eye corners x4, subnasale) to YuNet's 5 (eye centres, nose, mouth corners)."""
    right_eye = (pts[2] + pts[3]) / 2.0  # image-left eye
    left_eye = (pts[0] + pts[1]) / 2.0
    eye_mid = (right_eye + left_eye) / 2.0
    axis = left_eye - right_eye
    down = np.array([-axis[1], axis[0]])  # perpendicular, pointing down the face
    nose = pts[4] - 0.12 * down  # subnasale sits a little below the tip
    mouth_mid = eye_mid + 1.15 * down
    return np.stack([right_eye, left_eye, nose, mouth_mid - 0.42 * axis, mouth_mid + 0.42 * axis])


PAD_SHARE = 0.3  # border added on each side, as a share of that side, when retrying a tight crop


def detect_padded(detect: Callable[[np.ndarray], list[Face]], bgr: np.ndarray, share: float = PAD_SHARE,
                  border: int = cv2.BORDER_REPLICATE) -> list[Face]:
    """Faces that fill the image (tight crops): YuNet needs some margin around a face, so detect on a copy
    with a border added, then shift boxes and landmarks back (they may reach outside the original)."""
    h, w = bgr.shape[:2]
    dy, dx = round(share * h), round(share * w)
    padded = cv2.copyMakeBorder(bgr, dy, dy, dx, dx, border, value=(0, 0, 0))
    shift = np.array([dx, dy], np.float64)
    return [Face(box=(f.box[0] - dx, f.box[1] - dy, f.box[2], f.box[3]), landmarks=f.landmarks - shift,
                 score=f.score, detector=f.detector) for f in detect(padded)]
