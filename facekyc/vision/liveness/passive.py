"""The hand-made cue scorer (backend `cues`, opt-in): is this face on a screen or on paper?

Not the default: on attack data of other sessions and kinds it did worse than chance (issue 8);
MiniFASNet (`minifasnet.py`) is. Kept for comparison and for operators who choose it by name.

Generic image cues, each measured around the detected face and turned into an "attack evidence"
number (0 = typical of a live face):

- frame edges: a screen's bezel or a photo's paper edge is a long straight line beside the face;
  we count the sides of the face (left, right, above, below) that have a straight edge at least
  0.8 face-heights long, parallel to that side, within 1.6 face-widths (0-4 sides).
- moire / periodic texture: a screen's pixel grid beating with the camera's sensor, or a print's
  halftone dots, puts isolated peaks in the high-frequency spectrum of the face region. We take
  the largest peak over the median of the band 0.25-0.5 cycles/pixel (log ratio).
- specular glare: screens and glossy paper reflect lamps as saturated, colourless patches.
- colour: recaptured faces lose saturation and gamut (printer inks, screen gamma, two cameras).
- sharpness: recapture through a second lens and a surface blurs fine detail; Laplacian energy
  relative to the face's contrast.

Fusion is one-class on purpose: each cue is standardised against BONA FIDE development data only
(nuaa-dev live images and frames of the real development clips; mean and spread per cue), only
deviations in the attack direction count, and the score is minus their weighted sum (higher = more
likely live). The threshold is set for a stated bona fide rejection rate (BPCER 5 %) on the same
bona fide data, so no attack data is fitted: held-out attack kinds are not trained against.
The numbers live in `facekyc/vision/data/passive_cues.json`, written by `bench/fit_passive.py`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np

from facekyc.vision.detect import Face
from facekyc.vision.liveness.passive_types import PassiveDetector, PassiveScore, PassiveScorer
from facekyc.vision.liveness.types import LivenessReason

__all__ = ["CueModel", "CueScorer", "PassiveDetector", "PassiveScore", "PassiveScorer", "measure_cues"]

CUES = ("edges", "moire", "glare", "desaturation", "blur")
SCREEN_CUES = frozenset({"moire", "glare"})
PRINT_CUES = frozenset({"desaturation", "blur"})
WORK_FACE_HEIGHT = 160.0  # the frame is rescaled so the face box is this tall before edge search


@dataclass(frozen=True)
class CueModel:
    """Bona fide statistics per cue, weights and the decision threshold (from passive_cues.json)."""

    centre: dict[str, float]
    spread: dict[str, float]
    weight: dict[str, float]
    threshold: float
    bpcer_target: float

    @classmethod
    def load(cls) -> CueModel:
        return _load_model()

    def evidence(self, cues: dict[str, float]) -> dict[str, float]:
        """Standardised one-sided attack evidence per cue (0 when the cue looks live)."""
        return {k: self.weight[k] * max(0.0, (cues[k] - self.centre[k]) / self.spread[k]) for k in CUES}


@lru_cache(maxsize=1)
def _load_model() -> CueModel:
    text = resources.files("facekyc.vision").joinpath("data/passive_cues.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    return CueModel(centre=raw["centre"], spread=raw["spread"], weight=raw["weight"],
                    threshold=float(raw["threshold"]), bpcer_target=float(raw["bpcer_target"]))


class CueScorer:
    """The built-in training-free scorer (see the module docstring)."""

    name = "cues"

    def __init__(self, model: CueModel | None = None) -> None:
        self.model = model or CueModel.load()
        self.threshold = self.model.threshold

    def score(self, bgr: np.ndarray, face: Face) -> PassiveScore:
        cues = measure_cues(bgr, face)
        evidence = self.model.evidence(cues)
        value = -float(sum(evidence.values()))
        live = value >= self.threshold
        reason = None if live else _reason(evidence)
        return PassiveScore(score=value, live=live, cues=cues, reason=reason)


def _reason(evidence: dict[str, float]) -> LivenessReason:
    top = max(evidence, key=lambda k: evidence[k])
    if top in SCREEN_CUES:
        return LivenessReason.SCREEN_DETECTED
    if top in PRINT_CUES:
        return LivenessReason.PRINT_DETECTED
    return LivenessReason.PASSIVE_ATTACK


def measure_cues(bgr: np.ndarray, face: Face) -> dict[str, float]:
    """Every raw cue for one face (attack direction = larger)."""
    x, y, w, h = face.box
    height, width = bgr.shape[:2]
    x0, y0 = max(0, int(x)), max(0, int(y))
    x1, y1 = min(width, int(x + w)), min(height, int(y + h))
    if x1 - x0 < 16 or y1 - y0 < 16:
        return dict.fromkeys(CUES, math.nan)
    region = bgr[y0:y1, x0:x1]
    # the inner face (no hair, no background): middle 60 % across, 20-90 % down
    inner = region[int(0.2 * (y1 - y0)):int(0.9 * (y1 - y0)), int(0.2 * (x1 - x0)):int(0.8 * (x1 - x0))]
    gray_inner = cv2.cvtColor(inner, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return {
        "edges": float(frame_edge_sides(bgr, face)),
        "moire": spectral_peak(cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)),
        "glare": glare_share(region),
        "desaturation": -saturation(inner),
        "blur": -sharpness(gray_inner),
    }


def frame_edge_sides(bgr: np.ndarray, face: Face) -> int:
    """Sides of the face (0-4) with a long straight edge parallel to them: bezel or paper edge."""
    x, y, w, h = face.box
    scale = min(1.0, WORK_FACE_HEIGHT / max(h, 1.0))
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    x, y, w, h = (v * scale for v in (x, y, w, h))
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 0), 40, 120)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=int(0.5 * h), minLineLength=0.8 * h,
                            maxLineGap=0.04 * h)
    if lines is None:
        return 0
    sides: set[str] = set()
    cx, cy = x + w / 2, y + h / 2
    for x_a, y_a, x_b, y_b in lines.reshape(-1, 4).astype(np.float64):
        dx, dy = x_b - x_a, y_b - y_a
        angle = abs(math.degrees(math.atan2(dy, dx))) % 180
        mx, my = (x_a + x_b) / 2, (y_a + y_b) / 2
        if abs(angle - 90) < 15:  # vertical: must face the face across its height
            overlap = min(max(y_a, y_b), y + h) - max(min(y_a, y_b), y)
            if overlap >= 0.5 * h and abs(mx - cx) <= 1.6 * w:
                if mx < x:
                    sides.add("left")
                elif mx > x + w:
                    sides.add("right")
        elif angle < 15 or angle > 165:
            overlap = min(max(x_a, x_b), x + w) - max(min(x_a, x_b), x)
            if overlap >= 0.5 * w and abs(my - cy) <= 1.6 * h:
                if my < y:
                    sides.add("top")
                elif my > y + h:
                    sides.add("bottom")
    return len(sides)


def spectral_peak(gray: np.ndarray) -> float:
    """log(peak / median) of the 0.25-0.5 cycles/px band of the windowed face spectrum."""
    size = 128
    g = np.asarray(gray, np.float32)
    if min(g.shape) < size:
        g = np.asarray(cv2.resize(g, (size, size), interpolation=cv2.INTER_CUBIC), np.float32)
    cy, cx = g.shape[0] // 2, g.shape[1] // 2
    patch = g[cy - size // 2:cy + size // 2, cx - size // 2:cx + size // 2]
    patch = patch - patch.mean()
    window = np.outer(np.hanning(size), np.hanning(size)).astype(np.float32)
    mag = np.abs(np.fft.fftshift(np.fft.fft2(patch * window)))
    fy, fx = np.meshgrid(np.arange(size) - size // 2, np.arange(size) - size // 2, indexing="ij")
    radius = np.hypot(fx, fy) / size
    band = (radius >= 0.25) & (radius <= 0.5) & (np.abs(fx) > 1) & (np.abs(fy) > 1)  # no axis leakage
    values = mag[band]
    return float(math.log((values.max() + 1e-6) / (np.median(values) + 1e-6)))


def glare_share(region: np.ndarray) -> float:
    """Share of near-white, colourless pixels (specular reflections)."""
    hsv = cv2.cvtColor(region, cv2.COLOR_BGR2HSV)
    return float(((hsv[..., 2] >= 245) & (hsv[..., 1] <= 40)).mean())


def saturation(region: np.ndarray) -> float:
    """Mean HSV saturation of the inner face (0-1)."""
    hsv = cv2.cvtColor(region, cv2.COLOR_BGR2HSV)
    return float(hsv[..., 1].mean() / 255.0)


def sharpness(gray: np.ndarray) -> float:
    """log of Laplacian energy over grey-level variance, on a 96 px wide face (size independent)."""
    scale = 96.0 / max(gray.shape[1], 1)
    g = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    lap = cv2.Laplacian(g, cv2.CV_32F)
    return float(math.log((float(lap.var()) + 1e-3) / (float(g.var()) + 1.0)))
