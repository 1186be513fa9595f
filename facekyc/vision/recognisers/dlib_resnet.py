"""dlib ResNet-34 (CC0 weights): 128-d embeddings from dlib's own 150x150 face chips.

dlib's chips are cut from its 5-point shape predictor's landmarks; we run that predictor inside
the detected box so the crop geometry is exactly the one the network was trained on.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from facekyc.vision import models
from facekyc.vision.detect import Face
from facekyc.vision.recognisers.base import l2_normalise

CHIP_SIZE = 150
CHIP_PADDING = 0.25


class DlibResNetRecogniser:
    """dlib face_recognition_model_v1 (dlib-bin wheel, no BLAS: ~65 ms per face, 1 thread)."""

    name = "dlib"
    dim = 128

    def __init__(self) -> None:
        import dlib

        self._dlib = dlib
        self._net: Any = dlib.face_recognition_model_v1(str(models.dlib_resnet_path()))
        self._shapes: Any = dlib.shape_predictor(str(models.dlib_five_point_path()))
        self._lock = threading.Lock()

    def align(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        """dlib's 150x150 RGB chip for this face."""
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        x, y, w, h = face.box
        rect = self._dlib.rectangle(round(x), round(y), round(x + w), round(y + h))
        with self._lock:  # dlib objects are not documented as safe to share between threads
            shape = self._shapes(rgb, rect)
        return np.asarray(self._dlib.get_face_chip(rgb, shape, CHIP_SIZE, CHIP_PADDING))

    def embed(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        chip = self.align(bgr, face)
        with self._lock:
            descriptor = self._net.compute_face_descriptor(chip)
        return l2_normalise(np.asarray(descriptor))
