"""A capture session's passive decision is the median over several frames: one odd frame neither fails a
real customer nor lets a replay through (real development clips, the shipped MiniFASNet detector)."""

from __future__ import annotations

import numpy as np

from facekyc.vision.detect import Face
from facekyc.vision.liveness.check import check_liveness, default_passive
from facekyc.vision.liveness.passive_types import PassiveScore
from facekyc.vision.liveness.types import Challenge, LivenessReason


class OneOddFrame:
    """The shipped detector, except that the first frame it scores gets `odd_score` (a glitch, a glare)."""

    name = "one_odd_frame"

    def __init__(self, odd_score: float) -> None:
        self.inner = default_passive()
        self.threshold = self.inner.threshold
        self.odd_score = odd_score
        self.calls = 0

    def score(self, bgr: np.ndarray, face: Face) -> PassiveScore:
        self.calls += 1
        if self.calls == 1:
            live = self.odd_score >= self.threshold
            return PassiveScore(self.odd_score, live, {}, None if live else LivenessReason.PASSIVE_ATTACK)
        return self.inner.score(bgr, face)


def test_one_failing_frame_does_not_refuse_a_real_customer(engine, clip) -> None:  # type: ignore[no-untyped-def]
    odd = OneOddFrame(odd_score=-50.0)
    result = check_liveness(engine, clip("real_turns.mp4", 1.5, 11.0), [Challenge.TURN_LEFT, Challenge.TURN_RIGHT],
                            passive=odd)
    assert odd.calls >= 3 and result.scores["passive_frames"] == odd.calls
    assert result.live, result.to_dict()
    assert result.scores["passive"] >= odd.threshold


def test_one_passing_frame_does_not_let_the_replay_through(engine, clip) -> None:  # type: ignore[no-untyped-def]
    odd = OneOddFrame(odd_score=50.0)
    result = check_liveness(engine, clip("replay_of_real_turns.mp4", 3.0, 14.0), [Challenge.BLINK], passive=odd)
    assert odd.calls >= 3
    assert not result.live and LivenessReason.PASSIVE_ATTACK in result.reasons, result.to_dict()
    assert result.scores["passive"] < odd.threshold
