"""Synthetic attacks made from real stills: each rejected, each for the right reason."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from liveness_synthetic import moving_picture, repeated_still, shuffled

from facekyc.vision.liveness.check import check_liveness
from facekyc.vision.liveness.types import CapturedFrame, Challenge, LivenessReason

L, R = Challenge.TURN_LEFT, Challenge.TURN_RIGHT
STILLS = ["nuaa-dev/live/0001/0001_00_00_01_0.jpg", "nuaa-dev/live/0005/0005_00_00_01_136.jpg",
          "lfw-view1/images/Aaron_Peirsol/Aaron_Peirsol_0001.jpg"]


def _still(test_data: Path, rel: str) -> np.ndarray:
    path = test_data / rel
    if not path.is_file():
        pytest.skip(f"{path} not found")
    img = cv2.imread(str(path))
    assert img is not None
    if img.shape[0] < 400:  # LFW 250x250: upscale to a webcam-like size
        img = cv2.resize(img, (500, 500), interpolation=cv2.INTER_CUBIC)
    return img


@pytest.mark.parametrize("rel", STILLS)
def test_picture_moved_in_perspective_is_planar(engine, test_data, rel) -> None:  # type: ignore[no-untyped-def]
    frames = moving_picture(_still(test_data, rel), n=30, max_yaw=45.0)
    result = check_liveness(engine, frames, [L, R])
    assert not result.live
    assert LivenessReason.PLANAR_MOTION in result.reasons, result.to_dict()
    assert LivenessReason.FRAMES_DUPLICATED not in result.reasons  # fresh noise on every frame


def test_repeated_still_is_duplicated(engine, test_data) -> None:  # type: ignore[no-untyped-def]
    result = check_liveness(engine, repeated_still(_still(test_data, STILLS[0])), [Challenge.BLINK])
    assert not result.live
    assert LivenessReason.FRAMES_DUPLICATED in result.reasons


def test_shuffled_real_frames(engine, clip) -> None:  # type: ignore[no-untyped-def]
    frames = clip("real_turns.mp4", 1.5, 11.0)
    spliced = check_liveness(engine, shuffled(frames, keep_times=True), [L, R])
    assert not spliced.live
    assert {LivenessReason.TIMING_IMPLAUSIBLE, LivenessReason.WRONG_ORDER} & set(spliced.reasons), spliced.to_dict()
    raw = check_liveness(engine, shuffled(frames, keep_times=False), [L, R])
    assert LivenessReason.TIMING_IMPLAUSIBLE in raw.reasons


def test_too_fast_and_too_few(engine, clip) -> None:  # type: ignore[no-untyped-def]
    frames = clip("real_turns.mp4", 1.5, 11.0)
    squeezed = [CapturedFrame(f.bgr, i * 10.0) for i, f in enumerate(frames[::4])]  # 24 frames in 0.23 s
    result = check_liveness(engine, squeezed, [L, R, Challenge.BLINK])
    assert LivenessReason.TOO_FAST in result.reasons
    assert LivenessReason.TIMING_IMPLAUSIBLE in result.reasons  # 100 fps is no webcam
    few = check_liveness(engine, frames[:4], [L])
    assert few.reasons == [LivenessReason.TOO_FEW_FRAMES] and few.best is None


def test_identity_change_mid_session(engine, clip) -> None:  # type: ignore[no-untyped-def]
    """The head turns by one person, the rest of the session another person's frames."""
    turns = clip("real_turns.mp4", 1.5, 11.0)
    other = clip("real_wink_mouth_open.mp4", 0.0, 4.0)
    h, w = turns[0].bgr.shape[:2]
    frames = [*turns, *[CapturedFrame(cv2.resize(f.bgr, (w, h)), turns[-1].t_ms + 100.0 * (i + 1))
                        for i, f in enumerate(other)]]
    result = check_liveness(engine, frames, [L, R])
    assert LivenessReason.IDENTITY_CHANGED in result.reasons, result.to_dict()


def test_second_face_in_view(engine, clip) -> None:  # type: ignore[no-untyped-def]
    turns = clip("real_turns.mp4", 1.5, 11.0)
    guest = clip("real_mouth_open_blink.mp4", 0.0, 1.0)[0].bgr
    frames = []
    for f in turns:
        canvas = np.zeros((f.bgr.shape[0], f.bgr.shape[1] * 2, 3), np.uint8)
        canvas[:, :f.bgr.shape[1]] = f.bgr
        g = cv2.resize(guest, (f.bgr.shape[1], f.bgr.shape[1]))
        canvas[100:100 + g.shape[0], f.bgr.shape[1]:] = g[:canvas.shape[0] - 100]
        frames.append(CapturedFrame(canvas, f.t_ms))
    result = check_liveness(engine, frames, [L, R])
    assert LivenessReason.MULTIPLE_FACES in result.reasons, result.to_dict()
