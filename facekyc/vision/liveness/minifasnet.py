"""Optional passive backend: MiniVision's MiniFASNet anti-spoofing models (Apache-2.0) on CPU.

Two released networks score the face: MiniFASNetV2 on a crop of the face box scaled by 2.7 and
MiniFASNetV1SE on one scaled by 4.0 (the wider crop sees the edges of a photo or screen), both
resized to 80x80 and fed as raw 0-255 BGR floats, as upstream trains them (scaled to 0-1 or in RGB
order, live and print separate far worse on nuaa-dev). The score is the log-odds of the mean over the
two of the softmax probability of class 1 (real): higher = more likely live; log-odds rather than the
probability so that scores near 0 and 1 stay distinct and average sensibly in fusion. The threshold is
set for a stated bona fide rejection rate (BPCER 5 %) on bona fide development data only, like the
cue scorer's, and lives in `facekyc/vision/data/minifasnet.json` (written by
`bench/fit_minifasnet.py`). torch is imported only when this backend is built, so facekyc needs it
only here: `pip install 'facekyc[minifasnet]'`; the weights are not shipped (FACEKYC_MINIFASNET_DIR).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facekyc.errors import ModelUnavailable
from facekyc.vision.detect import Face
from facekyc.vision.liveness.passive import PassiveScore
from facekyc.vision.liveness.types import LivenessReason

INPUT_SIZE = 80
REAL_CLASS = 1
P_FLOOR = 1e-6  # probabilities are clipped to [P_FLOOR, 1 - P_FLOOR] before the log-odds
UPSTREAM = "https://github.com/minivision-ai/Silent-Face-Anti-Spoofing (resources/anti_spoof_models)"


@dataclass(frozen=True)
class ModelSpec:
    """One released network: its file name, architecture and how much context around the face it sees."""

    file: str
    kind: str
    scale: float


MODELS = (ModelSpec("2.7_80x80_MiniFASNetV2.pth", "v2", 2.7),
          ModelSpec("4_0_0_80x80_MiniFASNetV1SE.pth", "v1se", 4.0))


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
    """The 80x80 BGR network input for one face at one context scale."""
    height, width = bgr.shape[:2]
    x0, y0, x1, y1 = crop_box(face.box, scale, width, height)
    return cv2.resize(bgr[y0:y1, x0:x1], (INPUT_SIZE, INPUT_SIZE))


def import_torch() -> Any:
    """torch, or ModelUnavailable saying what to install (it is an optional dependency)."""
    try:
        import torch
    except ImportError as exc:
        raise ModelUnavailable("the MiniFASNet passive backend needs PyTorch (CPU): "
                               "pip install 'facekyc[minifasnet]'  (installs torch==2.13.0)") from exc
    return torch


def check_weights(weights_dir: Path) -> list[Path]:
    """The two weight files in `weights_dir`, or ModelUnavailable naming what is missing and where to get it."""
    paths = [weights_dir / m.file for m in MODELS]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise ModelUnavailable(f"MiniFASNet weights not found in {weights_dir}: missing {', '.join(missing)}. "
                               f"Download them from {UPSTREAM} into that folder and point "
                               "FACEKYC_MINIFASNET_DIR at it.")
    return paths


def log_odds(p_real: float) -> float:
    """log(p / (1 - p)) with p clipped away from 0 and 1 (NaN counts as an attack)."""
    p = min(max(p_real, P_FLOOR), 1.0 - P_FLOOR) if math.isfinite(p_real) else P_FLOOR
    return math.log(p / (1.0 - p))


class MiniFasNetScorer:
    """PassiveScorer over the two MiniFASNet models (see the module docstring)."""

    name = "minifasnet"

    def __init__(self, weights_dir: Path, threads: int = 1, threshold: float | None = None) -> None:
        paths = check_weights(Path(weights_dir))
        torch = import_torch()
        from facekyc.vision.liveness import minifasnet_net

        torch.set_num_threads(threads)  # process-wide in torch; the engine's own threads are separate
        try:
            self._nets = [minifasnet_net.load(m.kind, str(p)) for m, p in zip(MODELS, paths, strict=True)]
        except (RuntimeError, OSError, ValueError) as exc:
            raise ModelUnavailable(f"cannot load the MiniFASNet weights in {weights_dir}: {exc}") from exc
        self._torch = torch
        self.threshold = load_calibration().threshold if threshold is None else threshold

    def probabilities(self, bgr: np.ndarray, face: Face) -> list[np.ndarray]:
        """Softmax over the 3 classes from each model, in MODELS order."""
        out = []
        with self._torch.inference_mode():
            for spec, net in zip(MODELS, self._nets, strict=True):
                crop = face_crop(bgr, face, spec.scale).astype(np.float32)  # raw 0-255 BGR, no normalisation
                x = self._torch.from_numpy(crop.transpose(2, 0, 1).copy()).unsqueeze(0)
                out.append(self._torch.softmax(net(x), dim=1)[0].numpy().astype(np.float64))
        return out

    def score(self, bgr: np.ndarray, face: Face) -> PassiveScore:
        probs = self.probabilities(bgr, face)
        value = log_odds(float(np.mean([p[REAL_CLASS] for p in probs])))
        live = value >= self.threshold
        cues = {f"p_real_{m.kind}": float(p[REAL_CLASS]) for m, p in zip(MODELS, probs, strict=True)}
        return PassiveScore(score=value, live=live, cues=cues, reason=None if live else LivenessReason.PASSIVE_ATTACK)
