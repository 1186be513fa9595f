"""Synthetic presentation attacks made from one real still: a flat picture moved through a challenge."""

from __future__ import annotations

import math

import cv2
import numpy as np

from facekyc.vision.liveness.types import CapturedFrame


def plane_homography(width: int, height: int, yaw_deg: float, pitch_deg: float, roll_deg: float,
                     shift: tuple[float, float] = (0.0, 0.0), distance: float = 1.6) -> np.ndarray:
    """The homography imaging a flat picture rotated in 3-D (about its centre) by a pinhole camera."""
    f = float(max(width, height))
    corners = np.array([[-width / 2, -height / 2, 0], [width / 2, -height / 2, 0],
                        [width / 2, height / 2, 0], [-width / 2, height / 2, 0]], np.float64)
    a, b, c = (math.radians(v) for v in (yaw_deg, pitch_deg, roll_deg))
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    pts = corners @ (rz @ rx @ ry).T + np.array([shift[0], shift[1], distance * f])
    proj = pts[:, :2] / pts[:, 2:] * f * distance + np.array([width / 2, height / 2])
    src = (corners[:, :2] + np.array([width / 2, height / 2])).astype(np.float32)
    return cv2.getPerspectiveTransform(src, proj.astype(np.float32))


def moving_picture(still: np.ndarray, n: int = 30, fps: float = 10.0, max_yaw: float = 40.0,
                   seed: int = 0) -> list[CapturedFrame]:
    """A still turned left then right like a head (as a plane), while drifting, rolling and tilting,
    with fresh sensor noise on every frame so no two frames repeat."""
    rng = np.random.default_rng(seed)
    h, w = still.shape[:2]
    frames = []
    for i in range(n):
        phase = i / (n - 1)
        yaw = max_yaw * math.sin(2 * math.pi * phase)
        pitch = 8.0 * math.sin(4 * math.pi * phase)
        roll = 6.0 * math.sin(2 * math.pi * phase + 1.0)
        shift = (0.05 * w * math.sin(3 * phase), 0.04 * h * math.cos(2 * phase))
        hom = plane_homography(w, h, yaw, pitch, roll, shift)
        img = cv2.warpPerspective(still, hom, (w, h), borderMode=cv2.BORDER_REPLICATE)
        noisy = np.clip(img.astype(np.float32) + rng.normal(0, 2.0, img.shape), 0, 255).astype(np.uint8)
        frames.append(CapturedFrame(bgr=noisy, t_ms=i * 1000.0 / fps))
    return frames


def repeated_still(still: np.ndarray, n: int = 30, fps: float = 10.0) -> list[CapturedFrame]:
    """The same image sent again and again."""
    return [CapturedFrame(bgr=still.copy(), t_ms=i * 1000.0 / fps) for i in range(n)]


def shuffled(frames: list[CapturedFrame], seed: int = 0, keep_times: bool = True) -> list[CapturedFrame]:
    """Frames in a random order; with keep_times the timestamps stay increasing (a spliced upload)."""
    order = np.random.default_rng(seed).permutation(len(frames))
    if keep_times:
        return [CapturedFrame(bgr=frames[k].bgr, t_ms=frames[i].t_ms) for i, k in enumerate(order)]
    return [frames[k] for k in order]
