"""The one interface every face recogniser implements; adding a third model is one new file."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from facekyc.vision.detect import Face


class Recogniser(Protocol):
    """Turns a detected face into an L2-normalised float32 embedding (cosine = dot product)."""

    name: str
    dim: int

    def embed(self, bgr: np.ndarray, face: Face) -> np.ndarray:
        """Align the face the way this model was trained and return its unit-length embedding."""
        ...


def l2_normalise(vector: np.ndarray) -> np.ndarray:
    """Unit-length float32 copy (a zero vector stays zero)."""
    v = np.asarray(vector, np.float32).ravel()
    norm = float(np.linalg.norm(v))
    return v if norm == 0.0 else v / norm


def cpu_session(model: bytes, threads: int = 1) -> Any:
    """One onnxruntime CPU session for a serialised model, fully optimised; run() is thread-safe and
    releases the GIL, so one session serves every request thread."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
