"""The full check on the real development clips, cut to the prompted window like a capture."""

from __future__ import annotations

import pytest

from facekyc.vision.liveness.check import check_liveness
from facekyc.vision.liveness.types import Challenge, LivenessReason

L, R = Challenge.TURN_LEFT, Challenge.TURN_RIGHT
PASSIVE = {LivenessReason.PASSIVE_ATTACK, LivenessReason.SCREEN_DETECTED, LivenessReason.PRINT_DETECTED}


def test_direction_mapping_from_labels(liveness_labels: dict[str, dict[str, object]]) -> None:
    """labels.json: first turn is toward image-right = the subject's LEFT (non-mirrored camera)."""
    segments = liveness_labels["real_turns.mp4"]["segments"]
    assert isinstance(segments, list)
    assert "image-right" in segments[1]["action"] and "image-left" in segments[2]["action"]


@pytest.fixture(scope="module")
def turns(clip):  # type: ignore[no-untyped-def]
    return clip("real_turns.mp4", 1.5, 11.0)  # frontal, toward image-right, back, toward image-left, back


def test_real_turns_pass_with_the_challenge_performed(engine, turns) -> None:  # type: ignore[no-untyped-def]
    result = check_liveness(engine, turns, [L, R])
    assert result.live, result.to_dict()
    assert [s.performed for s in result.steps] == [True, True]
    assert result.steps[0].start_ms is not None and result.steps[1].start_ms is not None
    assert result.steps[0].start_ms < result.steps[1].start_ms
    assert result.best is not None and result.best_frame_index is not None
    assert result.best.quality.passed or not ({"sharpness", "brightness"} & set(result.best.quality.failed))
    assert result.scores["parallax"] > 0.06  # a real head: far above a plane's 0.04


def test_real_turns_fail_in_reverse_order(engine, turns) -> None:  # type: ignore[no-untyped-def]
    result = check_liveness(engine, turns, [R, L])
    assert not result.live
    assert result.reasons == [LivenessReason.WRONG_ORDER]


def test_real_turns_fail_an_unperformed_step(engine, clip) -> None:  # type: ignore[no-untyped-def]
    result = check_liveness(engine, clip("real_turns.mp4", 1.5, 6.5), [L, R])
    assert LivenessReason.CHALLENGE_NOT_PERFORMED in result.reasons


@pytest.mark.parametrize("challenge", [[L, R], [R, L], [Challenge.BLINK]])
def test_replay_fails_whatever_the_challenge(engine, clip, challenge) -> None:  # type: ignore[no-untyped-def]
    result = check_liveness(engine, clip("replay_of_real_turns.mp4", 3.0, 14.0), challenge)
    assert not result.live
    assert PASSIVE & set(result.reasons), result.to_dict()


def test_eyes_closed_clip_passes_a_blink(engine, clip) -> None:  # type: ignore[no-untyped-def]
    result = check_liveness(engine, clip("real_eyes_closed.mp4", 4.0, 13.0), [Challenge.BLINK])
    assert result.live, result.to_dict()
    assert result.best is not None
    # the best frame must be one with the eyes open (before 6.3 s or after 12 s in the clip)
    assert result.best_frame_index is not None


@pytest.mark.parametrize(("name", "start", "end"), [("real_mouth_open_blink.mp4", 3.3, 5.8),
                                                    ("real_wink_mouth_open.mp4", 8.5, 11.8)])
def test_mouth_clips_pass_open_mouth(engine, clip, name, start, end) -> None:  # type: ignore[no-untyped-def]
    result = check_liveness(engine, clip(name, start, end), [Challenge.OPEN_MOUTH])
    assert result.live, result.to_dict()


def test_still_face_does_not_pass_open_mouth(engine, clip) -> None:  # type: ignore[no-untyped-def]
    result = check_liveness(engine, clip("real_eyes_closed.mp4", 0.0, 5.0), [Challenge.OPEN_MOUTH])
    assert LivenessReason.CHALLENGE_NOT_PERFORMED in result.reasons


def test_head_down_then_up(engine, clip) -> None:  # type: ignore[no-untyped-def]
    result = check_liveness(engine, clip("real_turns.mp4", 10.5, 16.0), [Challenge.LOOK_DOWN, Challenge.LOOK_UP])
    assert result.live, result.to_dict()
