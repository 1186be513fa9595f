"""Default passive backend: MiniVision's MiniFASNet anti-spoofing models (Apache-2.0), as ONNX, on OpenCV DNN.

Two released networks score the face: MiniFASNetV2 on a crop of the face box scaled by 2.7 and
MiniFASNetV1SE on one scaled by 4.0 (the wider crop sees the edges of a photo or screen), both resized
to 80x80 and fed as raw 0-255 BGR floats, as upstream trains them. The score is the log-odds of the mean
over the two of P(real) (class 1): higher = more likely live; log-odds so that scores near 0 and 1 stay
distinct and medians over frames behave. The threshold is set for a stated bona fide rejection rate on
bona fide development data (`data/minifasnet.json`, written by `bench/fit_minifasnet.py`).

The ONNX files ship in `models/minifasnet/` beside this module (converted by `tools/minifasnet/to_onnx.py`;
LICENSE and NOTICE there), so no torch, no download and no setting is needed. OpenCV DNN was measured
faster than onnxruntime here with the same outputs (BENCHMARKS.md); a cv2.dnn net is not thread-safe,
so each thread owns its own pair of nets, built from the bytes read once.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facekyc.errors import ModelUnavailable
from facekyc.vision.detect import Face
from facekyc.vision.liveness.passive_types import PassiveScore
from facekyc.vision.liveness.types import LivenessReason

INPUT_SIZE = 80
REAL_CLASS = 1
P_FLOOR = 1e-6  # probabilities are clipped to [P_FLOOR, 1 - P_FLOOR] before the log-odds
UPSTREAM = "https://github.com/minivision-ai/Silent-Face-Anti-Spoofing (resources/anti_spoof_models)"


@dataclass(frozen=True)
class ModelSpec:
    """One released network: its shipped ONNX file, architecture and how much context around the face it sees."""

    file: str
    kind: str
    scale: float


MODELS = (ModelSpec("minifasnet_v2_2.7.onnx", "v2", 2.7),
          ModelSpec("minifasnet_v1se_4.0.onnx", "v1se", 4.0))


@dataclass(frozen=True)
class Calibration:
    """The shipped operating point (minifasnet.json): threshold and the bona fide score statistics."""

    threshold: float
    bpcer_target: float
    bona_fide_mean: float
    bona_fide_std: float


@lru_cache(maxsize=1)
def load_calibration() -> Calibration:
    text = resources.files("facekyc.vision").joinpath("data/minifasnet.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    return Calibration(threshold=float(raw["threshold"]), bpcer_target=float(raw["bpcer_target"]),
                       bona_fide_mean=float(raw["bona_fide_mean"]), bona_fide_std=float(raw["bona_fide_std"]))


def shipped_models_dir() -> Path:
    """The folder of the ONNX files inside the installed package."""
    return Path(str(resources.files("facekyc.vision.liveness").joinpath("models/minifasnet")))


def crop_box(box: tuple[float, float, float, float], scale: float, width: int,
             height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) exclusive: the face box scaled about its centre, the scale reduced until the
    window fits in the image and the window then shifted inside it (upstream's training crop)."""
    x, y, w, h = box
    w, h = max(w, 1.0), max(h, 1.0)
    scale = min(scale, (height - 1) / h, (width - 1) / w)
    new_w, new_h = w * scale, h * scale
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = cx - new_w / 2, cy - new_h / 2
    x0 = min(max(x0, 0.0), width - 1 - new_w)
    y0 = min(max(y0, 0.0), height - 1 - new_h)
    return int(x0), int(y0), int(x0 + new_w) + 1, int(y0 + new_h) + 1


def face_crop(bgr: np.ndarray, face: Face, scale: float) -> np.ndarray:
    """The 80x80 BGR network input for one face at one context scale; a face box reaching past the image
    (tight crops) is first given room by replicating the image border, so the crop never comes out empty."""
    x, y, w, h = face.box
    height, width = bgr.shape[:2]
    pad_x = math.ceil(max(0.0, -x, x + w - width))
    pad_y = math.ceil(max(0.0, -y, y + h - height))
    if pad_x or pad_y:
        bgr = cv2.copyMakeBorder(bgr, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REPLICATE)
        x, y = x + pad_x, y + pad_y
        height, width = bgr.shape[:2]
    x0, y0, x1, y1 = crop_box((x, y, w, h), scale, width, height)
    return cv2.resize(bgr[y0:y1, x0:x1], (INPUT_SIZE, INPUT_SIZE))


def log_odds(p_real: float) -> float:
    """log(p / (1 - p)) with p clipped away from 0 and 1 (NaN counts as an attack)."""
    p = min(max(p_real, P_FLOOR), 1.0 - P_FLOOR) if math.isfinite(p_real) else P_FLOOR
    return math.log(p / (1.0 - p))


def read_models(models_dir: Path) -> list[bytes]:
    """The two ONNX files' bytes, or ModelUnavailable naming what is missing."""
    paths = [models_dir / m.file for m in MODELS]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise ModelUnavailable(f"MiniFASNet ONNX files not found in {models_dir}: missing {', '.join(missing)} "
                               f"(convert upstream weights from {UPSTREAM} with tools/minifasnet/to_onnx.py, or "
                               "unset FACEKYC_MINIFASNET_DIR to use the shipped ones)")
    return [p.read_bytes() for p in paths]


def build_net(model: bytes) -> Any:
    """A cv2.dnn net from ONNX bytes (CPU)."""
    net = cv2.dnn.readNetFromONNX(np.frombuffer(model, np.uint8))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    return net


class MiniFasNetScorer:
    """PassiveDetector over the two MiniFASNet models (see the module docstring)."""

    name = "minifasnet"

    def __init__(self, models_dir: Path | None = None, threshold: float | None = None) -> None:
        folder = Path(models_dir) if models_dir is not None else shipped_models_dir()
        self._models = read_models(folder)
        try:
            nets = [build_net(m) for m in self._models]  # fail at start-up, not on the first customer
        except cv2.error as exc:
            raise ModelUnavailable(f"cannot load the MiniFASNet ONNX files in {folder}: {exc}") from exc
        self._local = threading.local()
        self._local.nets = nets
        self.threshold = load_calibration().threshold if threshold is None else threshold

    def _nets(self) -> list[Any]:
        """This thread's own nets (cv2.dnn nets must not be shared between threads)."""
        nets: list[Any] | None = getattr(self._local, "nets", None)
        if nets is None:
            nets = self._local.nets = [build_net(m) for m in self._models]
        return nets

    def probabilities(self, bgr: np.ndarray, face: Face) -> list[np.ndarray]:
        """Softmax over the 3 classes from each model, in MODELS order."""
        out = []
        for spec, net in zip(MODELS, self._nets(), strict=True):
            crop = face_crop(bgr, face, spec.scale).astype(np.float32)  # raw 0-255 BGR, no normalisation
            net.setInput(np.ascontiguousarray(crop.transpose(2, 0, 1))[None])
            out.append(np.asarray(net.forward(), np.float64).reshape(-1))
        return out

    def score(self, bgr: np.ndarray, face: Face) -> PassiveScore:
        probs = self.probabilities(bgr, face)
        value = log_odds(float(np.mean([p[REAL_CLASS] for p in probs])))
        live = value >= self.threshold
        cues = {f"p_real_{m.kind}": float(p[REAL_CLASS]) for m, p in zip(MODELS, probs, strict=True)}
        return PassiveScore(score=value, live=live, cues=cues, reason=None if live else LivenessReason.PASSIVE_ATTACK)
