"""3-D consistency: does the face move like a head, or like a flat picture (print, phone, tablet)?

The maths. Two views of a PLANE are related by a homography: every point x of the first image maps
to x' ~ H x with one 3x3 H, whatever the plane's position or the camera's, so a photo that is
moved, rotated, tilted or bent slightly toward the camera is explained by H to within tracking
noise. Points of a real head lie at different depths (the nose tip stands ~0.5 inter-eye distances
(IED) in front of the eyes and cheeks, the outline further back); when the head turns by an angle
a, a point at depth d shifts sideways by about d*sin(a) relative to the others. No single H can map
all of them, and the left-over error (parallax) grows with the depth spread and the turn.

A homography is only a test when the motion is not already explained by something simpler: a
translated, scaled, in-plane rotated picture and a head that does not turn are both fitted by an
affine map, so they say nothing. Corner features (~150) are found in the face ellipse of the most
frontal frame and tracked with pyramidal Lucas-Kanade (forward-backward checked) frame to frame,
forwards and backwards through the session, at a scale where the inter-eye distance is 60 px. At
every frame we fit, robustly (least median of squares), an affine map and a homography from the
reference points to the tracked points and take the 75th percentile of the residuals, in IED:

    r_aff = what an affine map leaves unexplained (how much out-of-plane motion there was)
    r_h   = what the best plane leaves unexplained (the parallax)

and judge the frame with the largest r_aff. If r_aff < 0.045 the session had too little motion to
judge and the check is inconclusive (NaN), never failed. Otherwise the motion is planar when
r_h < 0.04, or r_h < 0.08 and r_h < 0.45 * r_aff (a strongly warped plane leaves more tracking
noise). Measured: real head turns of 15-60 deg give r_h 0.08-0.25 (r_h/r_aff 0.61-1.0; an opening
mouth alone 0.056); a flat still turned +-25..45 deg in perspective, tilted,
rolled and drifted, with camera noise, gives r_h 0.009-0.031 (r_h/r_aff 0.15-0.34): the noise floor
of the tracker. A video REPLAY of a real head shows real parallax (the screen shows a 3-D head):
replays are the passive check's job.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from facekyc.vision.detect import Face
from facekyc.vision.liveness.observe import FrameObservation
from facekyc.vision.liveness.types import CapturedFrame

MIN_DEFORMATION = 0.045  # r_aff (in IED) below which there is nothing to test
PLANAR_MAX = 0.04  # r_h (in IED) below which the motion is that of a plane ...
PLANAR_RATIO = 0.45  # ... or r_h / r_aff below which a plane explains most of the deformation
MIN_POINTS = 12
MAX_CHAIN = 24
WORK_IED = 60.0  # frames are rescaled so the reference face has this inter-eye distance


@dataclass(frozen=True)
class ParallaxResult:
    """Parallax r_h in IED (NaN when inconclusive) and the numbers behind it."""

    parallax: float
    r_affine: float
    r_homography: float
    points: int
    reference: int
    target: int

    @property
    def conclusive(self) -> bool:
        return math.isfinite(self.parallax)

    @property
    def planar(self) -> bool:
        if not self.conclusive:
            return False
        warped_plane = self.parallax < 2 * PLANAR_MAX and self.parallax < PLANAR_RATIO * self.r_affine
        return self.parallax < PLANAR_MAX or warped_plane


INCONCLUSIVE = ParallaxResult(math.nan, 0.0, 0.0, 0, -1, -1)


def reference_frame(obs: Sequence[FrameObservation]) -> int | None:
    """Position of the most frontal observed face (the start of every track)."""
    seen = [i for i, o in enumerate(obs) if o.face is not None]
    if not seen:
        return None
    return min(seen, key=lambda i: abs(obs[i].yaw) + abs(obs[i].pitch))


def measure_parallax(frames: Sequence[CapturedFrame], obs: Sequence[FrameObservation]) -> ParallaxResult:
    """Track features from the most frontal frame forwards and backwards through the session and
    test the most deformed frame for a plane."""
    ref = reference_frame(obs)
    if ref is None:
        return INCONCLUSIVE
    ref_face = obs[ref].face
    assert ref_face is not None
    scale = min(1.0, WORK_IED / max(ref_face.inter_eye, 1.0))
    ied = ref_face.inter_eye * scale
    ref_gray = _gray(frames[obs[ref].index].bgr, scale)
    start = _features(ref_gray, ref_face, scale)
    if start is None:
        return ParallaxResult(math.nan, 0.0, 0.0, 0, ref, -1)
    best = ParallaxResult(math.nan, 0.0, 0.0, len(start), ref, -1)
    for direction in (1, -1):
        chain = [i for i in range(ref + direction, len(obs) if direction > 0 else -1, direction)
                 if obs[i].face is not None]
        if len(chain) > MAX_CHAIN:
            keep = np.unique(np.linspace(0, len(chain) - 1, MAX_CHAIN).round().astype(int))
            chain = [chain[k] for k in keep]
        prev, current, alive = ref_gray, start.copy(), np.ones(len(start), bool)
        for i in chain:
            gray = _gray(frames[obs[i].index].bgr, scale)
            current, ok = _track(prev, gray, current)
            alive &= ok
            prev = gray
            if alive.sum() < MIN_POINTS:
                break
            r_aff, r_h = _residuals(start[alive], current[alive], ied)
            if r_aff > best.r_affine:
                best = ParallaxResult(r_h if r_aff >= MIN_DEFORMATION else math.nan, r_aff, r_h,
                                      int(alive.sum()), ref, i)
    return best


def _gray(bgr: np.ndarray, scale: float) -> np.ndarray:
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return gray


def _features(gray: np.ndarray, face: Face, scale: float) -> np.ndarray | None:
    x, y, w, h = (v * scale for v in face.box)
    mask = np.zeros(gray.shape, np.uint8)
    cv2.ellipse(mask, (round(x + w / 2), round(y + h / 2)), (max(1, round(w * 0.5)), max(1, round(h * 0.55))),
                0, 0, 360, 255, -1)
    pts = cv2.goodFeaturesToTrack(gray, maxCorners=150, qualityLevel=0.005, minDistance=max(2.0, w * 0.04),
                                  mask=mask, blockSize=5)
    if pts is None or len(pts) < MIN_POINTS:
        return None
    return np.asarray(pts, np.float32).reshape(-1, 2)


LK_WINDOW = (15, 15)
LK_LEVELS = 3
LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)


def _track(a: np.ndarray, b: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    start = pts.reshape(-1, 1, 2).astype(np.float32)
    fwd, st1, _ = cv2.calcOpticalFlowPyrLK(a, b, start, start.copy(), winSize=LK_WINDOW, maxLevel=LK_LEVELS,
                                           criteria=LK_CRITERIA)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, fwd, fwd.copy(), winSize=LK_WINDOW, maxLevel=LK_LEVELS,
                                            criteria=LK_CRITERIA)
    fb = np.linalg.norm(back.reshape(-1, 2) - pts, axis=1)
    ok = (st1.reshape(-1) == 1) & (st2.reshape(-1) == 1) & (fb < 1.0)
    return fwd.reshape(-1, 2), ok


def _residuals(src: np.ndarray, dst: np.ndarray, ied: float) -> tuple[float, float]:
    """75th-percentile residuals (in IED) of robust affine and homography fits."""
    aff, _ = cv2.estimateAffine2D(src, dst, method=cv2.LMEDS)
    hom, _ = cv2.findHomography(src, dst, cv2.LMEDS)
    if aff is None or hom is None:
        return 0.0, 0.0
    pred_aff = src @ aff[:, :2].T + aff[:, 2]
    ones = np.hstack([src, np.ones((len(src), 1), np.float32)])
    proj = ones @ hom.T
    pred_h = proj[:, :2] / np.where(np.abs(proj[:, 2:]) < 1e-9, 1e-9, proj[:, 2:])
    r_aff = float(np.percentile(np.linalg.norm(pred_aff - dst, axis=1), 75)) / ied
    r_h = float(np.percentile(np.linalg.norm(pred_h - dst, axis=1), 75)) / ied
    return r_aff, r_h
