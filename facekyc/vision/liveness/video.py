"""Uploaded capture videos (video/webm, video/mp4) to timestamped frames, with hard limits.

OpenCV's FFmpeg backend only reads from files, so the upload is written to a private temporary file
that is removed afterwards. Limits are checked before and during decoding so a hostile upload cannot
make the service hold thousands of full-size frames: bytes, duration, decoded frames and frame size.
Frames are thinned to `target_fps` (a liveness check gains nothing from 60 fps) and downscaled so the
longer side is at most `max_side` (detection runs at 640 px anyway).
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from dataclasses import dataclass

import cv2
import numpy as np

from facekyc.errors import UnsupportedMediaType, VideoTooLarge, VideoTooLong, VideoUnreadable
from facekyc.vision.liveness.types import CapturedFrame

SUFFIXES: dict[str, str] = {"video/webm": ".webm", "video/mp4": ".mp4"}


@dataclass(frozen=True)
class VideoLimits:
    """What one capture upload may contain."""

    max_bytes: int = 25 * 1024 * 1024
    max_duration_s: float = 30.0
    max_frames: int = 300
    target_fps: float = 10.0
    max_side: int = 640
    max_source_pixels: int = 4096 * 2160
    max_decoded_frames: int = 3600  # frames read (before thinning): guards against absurd frame rates


DEFAULT_LIMITS = VideoLimits()


def media_type(content_type: str) -> str:
    """The bare media type of a Content-Type header ("video/webm;codecs=vp8" -> "video/webm")."""
    return content_type.split(";", 1)[0].strip().lower()


def _looks_like(data: bytes, kind: str) -> bool:
    if kind == "video/webm":
        return data[:4] == b"\x1a\x45\xdf\xa3"  # EBML header
    return len(data) >= 12 and data[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")


def decode_upload(data: bytes, content_type: str, limits: VideoLimits = DEFAULT_LIMITS) -> list[CapturedFrame]:
    """Decode a webm/mp4 capture into frames with millisecond timestamps from the container."""
    kind = media_type(content_type)
    if kind not in SUFFIXES:
        raise UnsupportedMediaType(f"unsupported video type {kind or '(none)'}; send video/webm or video/mp4",
                                   field="content_type")
    if len(data) > limits.max_bytes:
        raise VideoTooLarge(f"video is {len(data)} bytes; the limit is {limits.max_bytes}")
    if not data or not _looks_like(data, kind):
        raise VideoUnreadable(f"the upload is not a {kind} file")
    fd, path = tempfile.mkstemp(suffix=SUFFIXES[kind], prefix="facekyc-capture-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return decode_file(path, limits)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def decode_file(path: str, limits: VideoLimits = DEFAULT_LIMITS) -> list[CapturedFrame]:
    """Decode a video file (already trusted to be a video) under `limits`."""
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not cap.isOpened():
        raise VideoUnreadable("the video could not be opened")
    try:
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > limits.max_source_pixels:
            raise VideoTooLarge(f"video frames are {width}x{height}; too large")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        nominal_dt = 1000.0 / fps if 1.0 <= fps <= 240.0 else math.nan
        return _read_frames(cap, limits, nominal_dt)
    finally:
        cap.release()


def _read_frames(cap: cv2.VideoCapture, limits: VideoLimits, nominal_dt: float) -> list[CapturedFrame]:
    frames: list[CapturedFrame] = []
    min_gap = 1000.0 / limits.target_fps if limits.target_fps > 0 else 0.0
    last_kept = -math.inf
    prev_t = -math.inf
    read = 0
    while True:
        ok, bgr = cap.read()
        if not ok or bgr is None:
            break
        read += 1
        if read > limits.max_decoded_frames:
            raise VideoTooLong(f"video has more than {limits.max_decoded_frames} frames")
        t = float(cap.get(cv2.CAP_PROP_POS_MSEC))
        if not math.isfinite(t) or t <= prev_t:  # no usable container time: fall back to the frame rate
            t = (read - 1) * nominal_dt if math.isfinite(nominal_dt) else prev_t + 1.0
        prev_t = t
        if t > limits.max_duration_s * 1000.0:
            raise VideoTooLong(f"video is longer than {limits.max_duration_s:g} s")
        if t - last_kept + 0.5 < min_gap:  # small slack so 30 fps thins to exactly every 3rd frame
            continue
        last_kept = t
        if len(frames) >= limits.max_frames:
            raise VideoTooLong(f"video has more than {limits.max_frames} frames at {limits.target_fps:g} fps")
        frames.append(CapturedFrame(bgr=_fit(bgr, limits.max_side), t_ms=t))
    if not frames:
        raise VideoUnreadable("no frame could be decoded from the video")
    base = frames[0].t_ms
    return [CapturedFrame(bgr=f.bgr, t_ms=f.t_ms - base) for f in frames]


def _fit(bgr: np.ndarray, max_side: int) -> np.ndarray:
    h, w = bgr.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return np.ascontiguousarray(bgr)
    return cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
