"""Layer logic on hand-made inputs: no models, no data."""

from __future__ import annotations

import math

import numpy as np

from facekyc.vision.detect import Face
from facekyc.vision.liveness.challenge import evaluate_challenge, find_episodes
from facekyc.vision.liveness.integrity import check_duplicates, check_timing, duplicate_share
from facekyc.vision.liveness.observe import FrameObservation
from facekyc.vision.liveness.passive import CueScorer, PassiveScorer, spectral_peak
from facekyc.vision.liveness.types import CapturedFrame, Challenge, LivenessReason

RNG = np.random.default_rng(1)


def _frames(n: int, dt: float = 100.0) -> list[CapturedFrame]:
    return [CapturedFrame(RNG.integers(0, 255, (48, 64, 3), dtype=np.uint8), i * dt) for i in range(n)]


def test_timing() -> None:
    assert check_timing(_frames(30), 2).reasons == []
    assert check_timing(_frames(5), 1).reasons == [LivenessReason.TOO_FEW_FRAMES]
    backwards = _frames(20)
    backwards[5] = CapturedFrame(backwards[5].bgr, 10.0)
    assert check_timing(backwards, 1).reasons == [LivenessReason.TIMING_IMPLAUSIBLE]
    assert LivenessReason.TIMING_IMPLAUSIBLE in check_timing(_frames(30, dt=500.0), 1).reasons  # 2 fps
    assert LivenessReason.TOO_FAST in check_timing(_frames(20, dt=50.0), 3).reasons  # 0.95 s for 3 steps


def test_duplicates() -> None:
    frames = _frames(20)
    assert duplicate_share(frames) == 0.0
    looped = frames + [CapturedFrame(f.bgr.copy(), 2000.0 + f.t_ms) for f in frames[:6]]
    assert check_duplicates(looped).reasons == [LivenessReason.FRAMES_DUPLICATED]
    noisy_static = [CapturedFrame(np.clip(frames[0].bgr + RNG.normal(0, 3, frames[0].bgr.shape), 0, 255)
                                  .astype(np.uint8), i * 100.0) for i in range(20)]
    assert check_duplicates(noisy_static).reasons == []  # sensor noise alone is not a repeat


def _obs(yaws: list[float], eyes: list[float] | None = None) -> list[FrameObservation]:
    face = Face(box=(100, 100, 200, 240), landmarks=np.array([[150, 180], [250, 180], [200, 230], [160, 280],
                                                               [240, 280]], float), score=0.95)
    eyes = eyes or [7.0] * len(yaws)
    return [FrameObservation(index=i, t_ms=i * 100.0, face=face, rivals=0, yaw=y, pitch=0.0, roll=0.0,
                             eye_right=e, eye_left=e, mouth=0.1) for i, (y, e) in enumerate(zip(yaws, eyes,
                                                                                                  strict=True))]


def test_turn_order_and_hysteresis() -> None:
    # subject's left = image right = positive yaw; then subject's right
    yaws = [0, 1, 5, 15, 30, 35, 20, 4, 0, -2, -14, -25, -20, -3, 0]
    obs = _obs(yaws)
    good = evaluate_challenge(obs, [Challenge.TURN_LEFT, Challenge.TURN_RIGHT])
    assert good.reasons == [] and all(s.performed for s in good.steps)
    assert good.steps[0].peak_value == 35
    reverse = evaluate_challenge(obs, [Challenge.TURN_RIGHT, Challenge.TURN_LEFT])
    assert reverse.reasons == [LivenessReason.WRONG_ORDER]
    missing = evaluate_challenge(obs, [Challenge.TURN_LEFT, Challenge.LOOK_UP])
    assert missing.reasons == [LivenessReason.CHALLENGE_NOT_PERFORMED]
    # jitter across the enter level without going back below exit is ONE episode
    t = np.arange(8) * 100.0
    eps = find_episodes(Challenge.TURN_LEFT, np.array([0, 14, 10, 14, 9, 14, 2, 0.0]), t,
                        lambda v: v >= 13, lambda v: v < 7, lambda v: v)
    assert len(eps) == 1 and eps[0].first == 1 and eps[0].last == 5


def test_blink_is_relative_to_the_person() -> None:
    eyes = [7.0] * 6 + [4.8, 4.6, 4.9] + [7.1] * 6
    report = evaluate_challenge(_obs([0.0] * 15, eyes), [Challenge.BLINK])
    assert report.reasons == [] and report.steps[0].performed
    wink_like = [7.0] * 6 + [6.6, 6.5, 6.6] + [7.1] * 6
    assert evaluate_challenge(_obs([0.0] * 15, wink_like), [Challenge.BLINK]).reasons == \
        [LivenessReason.CHALLENGE_NOT_PERFORMED]


def test_passive_protocol_and_moire() -> None:
    scorer = CueScorer()
    assert isinstance(scorer, PassiveScorer) and math.isfinite(scorer.threshold)
    yy, xx = np.mgrid[0:160, 0:160]
    smooth = (128 + 40 * np.sin(xx / 25.0)).astype(np.uint8)
    grid = (smooth + 30 * np.sign(np.sin(xx * 2.2) * np.sin(yy * 2.2))).clip(0, 255).astype(np.uint8)
    assert spectral_peak(grid) > spectral_peak(smooth) + 1.0
