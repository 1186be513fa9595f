"""Frames of the development clips for the tests: a still of the person in a video serves as their 'ID photo'."""

from __future__ import annotations

from pathlib import Path

import cv2

from facekyc.vision.image import encode_jpeg


def still_from_clip(clip: Path, second: float) -> bytes:
    """One frame of the clip, at `second`, as a JPEG."""
    capture = cv2.VideoCapture(str(clip))
    capture.set(cv2.CAP_PROP_POS_MSEC, second * 1000)
    ok, frame = capture.read()
    capture.release()
    assert ok, f"no frame at {second} s in {clip}"
    return encode_jpeg(frame)
