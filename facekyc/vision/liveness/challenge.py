"""Active challenge: did the prompted actions happen, in the prompted order, in time?

Directions. Challenges are in the SUBJECT'S terms (see `types.Challenge`); pose angles come from
`facekyc.vision.pose` in IMAGE terms (positive yaw = nose toward image right, positive pitch = face
tilted up). On a non-mirrored camera image, as uploaded:

    turn_left  (toward the subject's own left shoulder)  -> nose moves toward image RIGHT (yaw > 0)
    turn_right (toward the subject's own right shoulder) -> nose moves toward image LEFT  (yaw < 0)
    look_up -> pitch increases;  look_down -> pitch decreases.

So labels.json's "head turned toward image-right" in `real_turns.mp4` is the subject's `turn_left`.

Each action is a signal compared with the same person's own frames in this session (never with a
population norm) and detected with hysteresis: it starts when the signal crosses an "enter" level
and ends only when it falls back past a lower "exit" level, so jitter around one level cannot
produce several actions. Measured on the development clips:

- yaw: frontal +-5 deg; the weakest real turn (toward image left) reaches -15..-20 deg, the strongest
  45..60 deg. Enter at 13 deg from the frontal baseline, exit at 7.
- pitch: head down reaches -15 deg from baseline, head up only +7 (the 5-point estimate foreshortens
  upward); enter 6 deg, exit 3.
- eyes: the per-eye gradient measure drops to ~0.70-0.80 of the open baseline (75th percentile of
  near-frontal frames) when closed; blink = mean of both eyes < 0.82, exit > 0.90. A wink (one eye)
  stays around 0.85-0.9.
- mouth: the mouth measure rises by 0.09-0.20 above the closed baseline (25th percentile) when the
  mouth is wide open, and reaches at most 0.07 while talking or closed; enter 0.08, exit 0.04.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from facekyc.vision.liveness.observe import FrameObservation
from facekyc.vision.liveness.types import Challenge, LivenessReason, StepResult

YAW_ENTER, YAW_EXIT = 13.0, 7.0
PITCH_ENTER, PITCH_EXIT = 6.0, 3.0
BLINK_ENTER, BLINK_EXIT = 0.82, 0.90
MOUTH_ENTER, MOUTH_EXIT = 0.08, 0.04
FRONTAL_YAW = 10.0  # frames within this of frontal define the baselines
EXPRESSION_MAX_YAW = 15.0  # eyes and mouth are only read on near-frontal frames
MIN_EPISODE_FRAMES = 2
MAX_STEP_WAIT_MS = 10_000.0  # a step must start within this time after the previous one ended
EARLIER = "seen only before the previous step"
HEAD_POSE = frozenset({Challenge.TURN_LEFT, Challenge.TURN_RIGHT, Challenge.LOOK_UP, Challenge.LOOK_DOWN})


@dataclass(frozen=True)
class Episode:
    """One detected action: frames [first, last] (observation positions), its times and strength."""

    challenge: Challenge
    first: int
    last: int
    start_ms: float
    end_ms: float
    peak: float


@dataclass(frozen=True)
class ChallengeReport:
    steps: list[StepResult]
    reasons: list[LivenessReason]
    episodes: dict[Challenge, list[Episode]] = field(default_factory=dict)
    baselines: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Signals:
    """Session-relative signals per observation (NaN where not measurable)."""

    yaw: np.ndarray  # degrees from the frontal baseline, image terms
    pitch: np.ndarray
    eyes: np.ndarray  # openness relative to the open baseline (1 = as open as usual)
    mouth: np.ndarray  # opening above the closed baseline
    baselines: dict[str, float]


def session_signals(obs: Sequence[FrameObservation]) -> Signals:
    """Normalise every raw measure against this person's own frames in this session."""
    yaw = np.array([o.yaw for o in obs], np.float64)
    pitch = np.array([o.pitch for o in obs], np.float64)
    frontal = np.abs(yaw) <= FRONTAL_YAW
    yaw0 = float(np.median(yaw[frontal])) if frontal.any() else 0.0
    pitch0 = float(np.median(pitch[frontal])) if frontal.any() else 0.0
    dyaw = yaw - yaw0
    near = np.abs(dyaw) <= EXPRESSION_MAX_YAW
    eye_r = np.array([o.eye_right for o in obs], np.float64)
    eye_l = np.array([o.eye_left for o in obs], np.float64)
    mouth = np.array([o.mouth for o in obs], np.float64)
    base_r = _percentile(eye_r[near], 75)
    base_l = _percentile(eye_l[near], 75)
    base_m = _percentile(mouth[near], 25)
    eyes = np.where(near, 0.5 * (eye_r / base_r + eye_l / base_l), np.nan)
    mouth_rel = np.where(near, mouth - base_m, np.nan)
    return Signals(yaw=dyaw, pitch=pitch - pitch0, eyes=eyes, mouth=mouth_rel,
                   baselines={"yaw0": yaw0, "pitch0": pitch0, "eye_right": base_r, "eye_left": base_l,
                              "mouth": base_m})


def _percentile(values: np.ndarray, q: float) -> float:
    finite = values[np.isfinite(values)]
    return float(np.percentile(finite, q)) if finite.size else math.nan


def find_episodes(kind: Challenge, signal: np.ndarray, t_ms: np.ndarray, enter: Callable[[float], bool],
                  leave: Callable[[float], bool], strength: Callable[[float], float]) -> list[Episode]:
    """Runs where `signal` entered the state and had not yet left it (hysteresis); NaN ends a run."""
    episodes: list[Episode] = []
    start: int | None = None
    peak = 0.0

    def close(end: int) -> None:
        if start is not None and end - start + 1 >= MIN_EPISODE_FRAMES:
            episodes.append(Episode(kind, start, end, float(t_ms[start]), float(t_ms[end]), peak))

    for i, value in enumerate(signal):
        v = float(value)
        if start is None:
            if math.isfinite(v) and enter(v):
                start, peak = i, strength(v)
        elif not math.isfinite(v) or leave(v):
            close(i - 1)
            start = None
            if math.isfinite(v) and enter(v):
                start, peak = i, strength(v)
        else:
            peak = max(peak, strength(v))
    close(len(signal) - 1)
    return episodes


def detect_actions(sig: Signals, t_ms: np.ndarray) -> dict[Challenge, list[Episode]]:
    """Every action of every kind seen in the session."""
    return {
        Challenge.TURN_LEFT: find_episodes(Challenge.TURN_LEFT, sig.yaw, t_ms, lambda v: v >= YAW_ENTER,
                                           lambda v: v < YAW_EXIT, lambda v: v),
        Challenge.TURN_RIGHT: find_episodes(Challenge.TURN_RIGHT, sig.yaw, t_ms, lambda v: v <= -YAW_ENTER,
                                            lambda v: v > -YAW_EXIT, lambda v: -v),
        Challenge.LOOK_UP: find_episodes(Challenge.LOOK_UP, sig.pitch, t_ms, lambda v: v >= PITCH_ENTER,
                                         lambda v: v < PITCH_EXIT, lambda v: v),
        Challenge.LOOK_DOWN: find_episodes(Challenge.LOOK_DOWN, sig.pitch, t_ms, lambda v: v <= -PITCH_ENTER,
                                           lambda v: v > -PITCH_EXIT, lambda v: -v),
        Challenge.BLINK: find_episodes(Challenge.BLINK, sig.eyes, t_ms, lambda v: v < BLINK_ENTER,
                                       lambda v: v > BLINK_EXIT, lambda v: 1.0 - v),
        Challenge.OPEN_MOUTH: find_episodes(Challenge.OPEN_MOUTH, sig.mouth, t_ms, lambda v: v >= MOUTH_ENTER,
                                            lambda v: v < MOUTH_EXIT, lambda v: v),
    }


def evaluate_challenge(obs: Sequence[FrameObservation], challenge: Sequence[Challenge]) -> ChallengeReport:
    """Match the prompted steps, in order, against the detected actions."""
    seen = [o for o in obs if o.face is not None]
    if not seen:
        return ChallengeReport([StepResult(c, False, None, 0.0, "no face") for c in challenge],
                               [LivenessReason.NO_FACE])
    t_ms = np.array([o.t_ms for o in seen], np.float64)
    sig = session_signals(seen)
    episodes = detect_actions(sig, t_ms)
    steps: list[StepResult] = []
    reasons: list[LivenessReason] = []
    after_start, after_end = -math.inf, float(t_ms[0])
    for step in challenge:
        candidates = [e for e in episodes[step] if e.start_ms > after_start]
        match = next((e for e in candidates if e.start_ms - after_end <= MAX_STEP_WAIT_MS), None)
        if match is None:
            detail = (EARLIER if episodes[step] and not candidates
                      else "too late" if candidates else "not seen")
            steps.append(StepResult(step, False, None, max((e.peak for e in episodes[step]), default=0.0),
                                    detail))
            continue
        steps.append(StepResult(step, True, match.start_ms, match.peak,
                                f"{match.start_ms:.0f}-{match.end_ms:.0f} ms"))
        after_start, after_end = match.start_ms, match.end_ms
    missing = [s for s in steps if not episodes[s.challenge]]
    if missing:
        reasons.append(LivenessReason.CHALLENGE_NOT_PERFORMED)
    elif any(s.detail == EARLIER for s in steps) or not _pose_order_ok(challenge, episodes):
        reasons.append(LivenessReason.WRONG_ORDER)
    elif any(not s.performed for s in steps):
        reasons.append(LivenessReason.CHALLENGE_NOT_PERFORMED)
    return ChallengeReport(steps, reasons, episodes, sig.baselines)


def _pose_order_ok(challenge: Sequence[Challenge], episodes: dict[Challenge, list[Episode]]) -> bool:
    """Deliberate head movements must FIRST appear in the prompted order (blinks happen anyway)."""
    prompted = list(dict.fromkeys(c for c in challenge if c in HEAD_POSE))
    firsts = [min(e.start_ms for e in episodes[c]) for c in prompted if episodes[c]]
    return firsts == sorted(firsts)
