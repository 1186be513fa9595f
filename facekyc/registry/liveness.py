"""The liveness checker the capture service calls, and upload decoding (JPEG bursts or a video).

The default is the real checker in `facekyc.vision.liveness`, imported lazily. Tests may pass
another checker to `create_app(..., liveness=...)`: only Python code can do that, never settings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from facekyc.config import Settings
from facekyc.errors import FaceKycError, InputError, ModelUnavailable
from facekyc.vision.image import decode_image
from facekyc.vision.liveness.types import CapturedFrame, Challenge, LivenessResult

if TYPE_CHECKING:
    from facekyc.vision.engine import FaceEngine

LivenessChecker = Callable[["FaceEngine", list[CapturedFrame], list[Challenge], "float | None"], LivenessResult]
VIDEO_TYPES = frozenset({"video/webm", "video/mp4"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/pjpeg"})
MAX_FRAMES = 120
MAX_TIMESTAMPS_CHARS = 16 * 1024  # 120 numbers in JSON; also the form field's max_length


def default_checker(settings: Settings) -> LivenessChecker:
    """The real active + passive liveness check, with the configured passive backend built once, at
    start-up, so a broken model file fails the boot rather than the first customer."""
    from facekyc.vision.liveness.check import check_liveness
    from facekyc.vision.liveness.passive_backends import passive_from_settings

    passive = passive_from_settings(settings)

    def run(engine: FaceEngine, frames: list[CapturedFrame], challenge: list[Challenge],
            now_ms: float | None) -> LivenessResult:
        return check_liveness(engine, frames, challenge, passive=passive)

    return run


def decode_burst(images: Sequence[bytes], timestamps_json: str | None, *, max_pixels: int) -> list[CapturedFrame]:
    """JPEG frames plus a JSON list of client timestamps (ms), one per frame, increasing."""
    if not images:
        raise InputError("no frames uploaded", code="no_frames", field="frames")
    if len(images) > MAX_FRAMES:
        raise InputError(f"at most {MAX_FRAMES} frames", code="too_many_frames", field="frames")
    stamps = _parse_timestamps(timestamps_json)
    if stamps is None:
        raise InputError("timestamps are required with a frame burst", code="invalid_timestamps", field="timestamps")
    if (not isinstance(stamps, list) or len(stamps) != len(images)
            or not all(isinstance(t, int | float) and not isinstance(t, bool) for t in stamps)):
        raise InputError("timestamps must be a JSON list with one number per frame", code="invalid_timestamps",
                         field="timestamps")
    return one_frame_size([CapturedFrame(bgr=decode_image(data, max_pixels=max_pixels).bgr, t_ms=float(t))
                           for data, t in zip(images, stamps, strict=True)], "frames")


def one_frame_size(frames: list[CapturedFrame], field: str) -> list[CapturedFrame]:
    """The frames, or 422 inconsistent_frame_sizes: one camera stream has one size, and tracking needs it."""
    if len({f.bgr.shape for f in frames}) > 1:
        raise InputError("every frame of a capture must have the same size", code="inconsistent_frame_sizes",
                         field=field)
    return frames


def _parse_timestamps(text: str | None) -> object:
    """JSON of one flat list (depth 1, bounded length): nested input never reaches the recursive parser."""
    if not text:
        return None
    if len(text) > MAX_TIMESTAMPS_CHARS or text.count("[") > 1 or "{" in text:
        raise InputError("timestamps must be a flat JSON list of numbers", code="invalid_timestamps",
                         field="timestamps")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise InputError("timestamps must be a JSON list of numbers", code="invalid_timestamps",
                         field="timestamps") from None


def decode_video(data: bytes, content_type: str) -> list[CapturedFrame]:
    """Frames of an uploaded video via facekyc.vision.liveness.video.decode_upload."""
    try:
        from facekyc.vision.liveness.video import decode_upload  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise ModelUnavailable("video decoding is not installed", code="liveness_unavailable") from exc
    try:
        frames: list[CapturedFrame] = decode_upload(data, content_type)
    except FaceKycError:
        raise
    except Exception as exc:  # a hostile or broken file must not become a 500
        raise InputError("the video could not be decoded", code="video_unreadable", field="video") from exc
    return one_frame_size(frames, "video")  # a stream may change resolution midway
