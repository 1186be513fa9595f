"""dlib ResNet-34 (CC0 weights): 128-d embeddings from dlib's own 150x150 face chips.

dlib's chips are cut from its 5-point shape predictor's landmarks; we run that predictor inside
the detected box so the crop geometry is exactly the one the network was trained on. The network
itself runs in onnxruntime (`DlibResNetRecogniser`, the default "dlib") on a graph read from the same
`.dat` file (`facekyc.vision.dlib_dnn`); `DlibNativeRecogniser` ("dlib-native") is dlib's own
implementation, kept as the reference the ONNX graph is tested against.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from facekyc.vision import models
from facekyc.vision.detect import Face
from facekyc.vision.recognisers.base import cpu_session, l2_normalise

CHIP_SIZE = 150
CHIP_PADDING = 0.25


class DlibChipper:
    """dlib's 5-point predictor and chip extraction (fast; dlib objects are used under one lock)."""

    def __init__(self) -> None:
        import dlib

        self._dlib = dlib
        self._shapes: Any = dlib.shape_predictor(str(models.dlib_five_point_path()))
        self._lock = threading.Lock()

    def chip(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        """dlib's 150x150 RGB chip for this face."""
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        x, y, w, h = face.box
        rect = self._dlib.rectangle(round(x), round(y), round(x + w), round(y + h))
        with self._lock:  # dlib objects are not documented as safe to share between threads
            shape = self._shapes(rgb, rect)
            return np.asarray(self._dlib.get_face_chip(rgb, shape, CHIP_SIZE, CHIP_PADDING))


class DlibResNetRecogniser:
    """dlib face_recognition_model_v1 in one shared onnxruntime session (~6 ms a face, 1 thread, and
    concurrent requests run side by side: onnxruntime releases the GIL and run() is thread-safe)."""

    name = "dlib"
    dim = 128

    def __init__(self, threads: int = 1) -> None:
        from facekyc.vision.dlib_dnn import INPUT_NAME, load_dlib_resnet

        self._session: Any = cpu_session(load_dlib_resnet(models.dlib_resnet_path()).SerializeToString(), threads)
        self._input = INPUT_NAME
        self._chipper = DlibChipper()

    def align(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        return self._chipper.chip(bgr, face)

    def embed(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        chip = self.align(bgr, face)
        blob = np.ascontiguousarray(chip.transpose(2, 0, 1)[None], dtype=np.float32)
        return l2_normalise(np.asarray(self._session.run(None, {self._input: blob})[0]))


class DlibNativeRecogniser:
    """The same network in dlib itself (dlib-bin, no BLAS: ~75 ms a face, one at a time)."""

    name = "dlib"
    dim = 128

    def __init__(self) -> None:
        import dlib

        self._net: Any = dlib.face_recognition_model_v1(str(models.dlib_resnet_path()))
        self._chipper = DlibChipper()
        self._lock = threading.Lock()

    def align(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        return self._chipper.chip(bgr, face)

    def embed(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        chip = self.align(bgr, face)
        with self._lock:
            descriptor = self._net.compute_face_descriptor(chip)
        return l2_normalise(np.asarray(descriptor))
