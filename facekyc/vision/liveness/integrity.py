"""Session integrity: is this a plausible live recording at all, before looking at the face?

- timing: client timestamps strictly increasing, a frame rate a camera produces (5-60 fps), no long
  gap, a total duration long enough for the prompted steps (`too_fast`) and not absurdly long.
- duplicates: a camera never delivers the same image twice (sensor noise alone changes every pixel),
  so frames whose 32x32 grey thumbnails differ by < 0.03 grey levels on average are repeats. On the
  development clips at 10 fps the closest pair of frames differs by 0.10; re-encoded 30 fps phone
  clips contain up to 0.8 % encoder-repeated frames, so up to 10 % repeats are tolerated.
- continuity: consecutive frames of a real capture show the face moving smoothly; shuffled or
  spliced frames make the face jump (centre shift or yaw change too large for the time between).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from facekyc.vision.liveness.observe import FrameObservation
from facekyc.vision.liveness.types import CapturedFrame, LivenessReason

MIN_FRAMES = 8
MIN_FPS, MAX_FPS = 5.0, 60.0
MAX_GAP_MS = 1500.0
MIN_STEP_MS = 700.0  # the least time one prompted action (turn and back, blink ...) takes
MAX_DURATION_MS = 60_000.0
DUPLICATE_MAD = 0.03
MAX_DUPLICATE_SHARE = 0.10
MAX_JUMP_SHARE = 0.15
JUMP_IED_PER_S = 12.0  # face centre speed (inter-eye distances per second) no head reaches ...
JUMP_MIN_IED = 0.6  # ... and at least this far between two frames
JUMP_YAW_DEG_PER_S = 400.0
JUMP_MIN_YAW_DEG = 25.0


@dataclass(frozen=True)
class IntegrityReport:
    """Reasons found and the measured values behind them."""

    reasons: list[LivenessReason] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)


def check_timing(frames: Sequence[CapturedFrame], n_steps: int) -> IntegrityReport:
    """Frame count, monotonic timestamps, frame rate, gaps and total duration."""
    reasons: list[LivenessReason] = []
    t = np.array([f.t_ms for f in frames], np.float64)
    scores: dict[str, float] = {"frames": float(len(frames))}
    if len(frames) < max(MIN_FRAMES, 2 * n_steps + 2):
        return IntegrityReport([LivenessReason.TOO_FEW_FRAMES], scores)
    dt = np.diff(t)
    duration = float(t[-1] - t[0])
    scores["duration_ms"] = duration
    if not np.all(np.isfinite(t)) or np.any(dt <= 0):
        reasons.append(LivenessReason.TIMING_IMPLAUSIBLE)
        return IntegrityReport(reasons, scores)
    fps = 1000.0 / float(np.median(dt))
    scores["fps"] = fps
    scores["max_gap_ms"] = float(dt.max())
    if not MIN_FPS <= fps <= MAX_FPS or float(dt.max()) > MAX_GAP_MS or duration > MAX_DURATION_MS:
        reasons.append(LivenessReason.TIMING_IMPLAUSIBLE)
    if duration < n_steps * MIN_STEP_MS:
        reasons.append(LivenessReason.TOO_FAST)
    return IntegrityReport(reasons, scores)


def thumbnail(bgr: np.ndarray) -> np.ndarray:
    """32x32 grey area-average: insensitive to compression noise, not to any real change."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
    return cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)


def duplicate_share(frames: Sequence[CapturedFrame]) -> float:
    """Share of frames that have a near-exact twin anywhere in the session (loops count too)."""
    if len(frames) < 2:
        return 0.0
    thumbs = np.stack([thumbnail(f.bgr) for f in frames]).reshape(len(frames), -1)
    dup = np.zeros(len(frames), bool)
    for i in range(len(frames) - 1):
        mad = np.abs(thumbs[i + 1:] - thumbs[i]).mean(axis=1)
        twins = np.flatnonzero(mad < DUPLICATE_MAD)
        if twins.size:
            dup[i] = True
            dup[i + 1 + twins] = True
    return float(dup.mean())


def check_duplicates(frames: Sequence[CapturedFrame]) -> IntegrityReport:
    """`frames_duplicated` when more than 10 % of the frames are repeats."""
    share = duplicate_share(frames)
    reasons = [LivenessReason.FRAMES_DUPLICATED] if share > MAX_DUPLICATE_SHARE else []
    return IntegrityReport(reasons, {"duplicate_share": share})


def jump_share(observations: Sequence[FrameObservation]) -> float:
    """Share of consecutive face observations whose change is too fast for a head."""
    seen = [o for o in observations if o.face is not None]
    if len(seen) < 3:
        return 0.0
    jumps = 0
    for a, b in itertools.pairwise(seen):
        assert a.face is not None and b.face is not None
        dt_s = max((b.t_ms - a.t_ms) / 1000.0, 1e-3)
        ied = max(0.5 * (a.face.inter_eye + b.face.inter_eye), 1.0)
        shift = math.dist(a.face.center, b.face.center) / ied
        dyaw = abs(b.yaw - a.yaw)
        if (shift > JUMP_MIN_IED and shift / dt_s > JUMP_IED_PER_S) or \
                (dyaw > JUMP_MIN_YAW_DEG and dyaw / dt_s > JUMP_YAW_DEG_PER_S):
            jumps += 1
    return jumps / (len(seen) - 1)


def check_continuity(observations: Sequence[FrameObservation]) -> IntegrityReport:
    """`timing_implausible` when the face jumps between too many consecutive frames (shuffled, spliced)."""
    share = jump_share(observations)
    reasons = [LivenessReason.TIMING_IMPLAUSIBLE] if share > MAX_JUMP_SHARE else []
    return IntegrityReport(reasons, {"jump_share": share})
