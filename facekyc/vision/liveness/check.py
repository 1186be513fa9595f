"""The liveness decision: every layer run on one capture session, one LivenessResult out.

1. integrity (timing, repeated frames, continuity)   -> integrity.py
2. active challenge (turns, looks, blink, mouth)      -> challenge.py
3. 3-D consistency (planar motion of a picture)       -> parallax.py
4. passive PAD on several frames, median decides     -> passive_backends.py (MiniFASNet by default)
5. identity consistency and a single subject          -> identity.py

Every frame goes through the detector once; only the best frontal frame and 3 frames spread over
the session are embedded. The result is live only when no layer found a reason; `best` is the
analysis of the best frontal frame, the face the registration then matches against the ID.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np

from facekyc.errors import FaceKycError, MultipleFaces
from facekyc.vision.align import arcface_crop
from facekyc.vision.detect import Face
from facekyc.vision.engine import FaceAnalysis, FaceEngine
from facekyc.vision.liveness.challenge import evaluate_challenge, session_signals
from facekyc.vision.liveness.identity import check_identity
from facekyc.vision.liveness.integrity import check_continuity, check_duplicates, check_timing
from facekyc.vision.liveness.observe import FrameObservation, observe_frames
from facekyc.vision.liveness.parallax import measure_parallax
from facekyc.vision.liveness.passive_backends import build_passive
from facekyc.vision.liveness.passive_types import PassiveScore, PassiveScorer
from facekyc.vision.liveness.types import CapturedFrame, Challenge, LivenessReason, LivenessResult

MIN_FACE_SHARE = 0.8  # frames in which the subject must be found
MAX_RIVAL_SHARE = 0.1  # frames allowed to show a second face of similar size
EYES_OPEN = 0.9  # relative eye openness a best frame needs
SHARPEST_OF = 8  # candidate best frames compared for sharpness ...
FRONTAL_SLACK_DEG = 8.0  # ... when within this many degrees of the most frontal one
PASSIVE_FRAMES = 7  # frames the passive detector scores per session (the median decides)
QUALITY_BLOCKING = frozenset({"face_size", "sharpness", "brightness", "overexposure", "clipping", "contrast"})


@lru_cache(maxsize=1)
def default_passive() -> PassiveScorer:
    """The default passive detector with the shipped models (loaded once per process)."""
    return build_passive()


def check_liveness(engine: FaceEngine, frames: list[CapturedFrame], challenge: list[Challenge], *,
                   passive: PassiveScorer | None = None) -> LivenessResult:
    """Run every layer on one capture session; see the module docstring."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = (now - clock) * 1000.0
        clock = now

    reasons: list[LivenessReason] = []
    scores: dict[str, float] = {}
    timing = check_timing(frames, len(challenge))
    scores.update(timing.scores)
    if LivenessReason.TOO_FEW_FRAMES in timing.reasons:
        return LivenessResult(False, timing.reasons, scores, [], None, None, timings)
    reasons += timing.reasons
    duplicates = check_duplicates(frames)
    scores.update(duplicates.scores)
    reasons += duplicates.reasons
    lap("integrity")

    obs = observe_frames(engine, frames)
    lap("observe")
    face_share = sum(o.face is not None for o in obs) / len(obs)
    scores["face_share"] = face_share
    if face_share < MIN_FACE_SHARE:
        reasons.append(LivenessReason.NO_FACE)
    if sum(o.rivals > 0 for o in obs) > MAX_RIVAL_SHARE * len(obs):
        reasons.append(LivenessReason.MULTIPLE_FACES)
    if not any(o.face is not None for o in obs):
        return LivenessResult(False, _unique(reasons), scores, [], None, None, timings)
    continuity = check_continuity(obs)
    scores.update(continuity.scores)
    reasons += continuity.reasons

    report = evaluate_challenge(obs, challenge)
    reasons += report.reasons
    for i, step in enumerate(report.steps):
        scores[f"step{i + 1}_{step.challenge.value}"] = step.peak_value
    lap("challenge")

    parallax = measure_parallax(frames, obs)
    scores["parallax"] = parallax.parallax
    scores["parallax_affine"] = parallax.r_affine
    if parallax.planar:
        reasons.append(LivenessReason.PLANAR_MOTION)
    lap("parallax")

    best_pos, best, several = _best_frame(engine, frames, obs)
    lap("best")
    if several:
        reasons.append(LivenessReason.MULTIPLE_FACES)
    if best is None:
        reasons.append(LivenessReason.LOW_QUALITY)
    else:
        if QUALITY_BLOCKING & set(best.quality.failed):
            reasons.append(LivenessReason.LOW_QUALITY)
        identity = check_identity(engine, frames, obs, best, best_pos)
        scores["identity_min"] = identity.min_score
        scores["identity_threshold"] = identity.threshold
        if not identity.consistent:
            reasons.append(LivenessReason.IDENTITY_CHANGED)
        lap("identity")
        scorer = passive or default_passive()
        chosen = {best_pos: best.face, **{p: a.face for p, a in identity.analyses.items()}}
        verdicts = [scorer.score(frames[obs[p].index].bgr, face)
                    for p, face in _passive_faces(obs, chosen).items()]
        # one odd frame neither passes nor fails a session: the median score decides
        scores["passive"] = float(np.median([v.score for v in verdicts]))
        scores["passive_threshold"] = float(scorer.threshold)
        scores["passive_frames"] = float(len(verdicts))
        if not scores["passive"] >= scorer.threshold:
            reasons.append(_passive_reason([v for v in verdicts if not v.live] or verdicts))
        lap("passive")
    reasons = _unique(reasons)
    return LivenessResult(live=not reasons, reasons=reasons, scores=scores, steps=report.steps,
                          best_frame_index=obs[best_pos].index if best is not None else None,
                          best=best, timings_ms=timings)


def _passive_faces(obs: Sequence[FrameObservation], chosen: dict[int, Face]) -> dict[int, Face]:
    """The analysed frames plus observed ones spread evenly over the session, PASSIVE_FRAMES in all (when
    there are so many), so the median speaks for the whole capture rather than for its frontal moments."""
    others = [i for i, o in enumerate(obs) if o.face is not None and i not in chosen]
    room = min(PASSIVE_FRAMES - len(chosen), len(others))
    picks = {others[k] for k in np.linspace(0, len(others) - 1, room).round().astype(int)} if room > 0 else set()
    faces = dict(chosen)
    for i in sorted(picks):
        face = obs[i].face
        assert face is not None
        faces[i] = face
    return faces


def _unique(reasons: list[LivenessReason]) -> list[LivenessReason]:
    return list(dict.fromkeys(reasons))


def _passive_reason(failing: list[PassiveScore]) -> LivenessReason:
    counts = Counter(v.reason or LivenessReason.PASSIVE_ATTACK for v in failing)
    return counts.most_common(1)[0][0]


def _sharpness(bgr: np.ndarray, o: FrameObservation) -> float:
    """Laplacian variance of the aligned face (the quality module's sharpness measure)."""
    assert o.face is not None
    gray = cv2.cvtColor(arcface_crop(bgr, o.face.landmarks), cv2.COLOR_BGR2GRAY)[24:104, 20:92]
    return float(cv2.Laplacian(cv2.GaussianBlur(gray, (3, 3), 0), cv2.CV_64F).var())


def _best_frame(engine: FaceEngine, frames: Sequence[CapturedFrame],
                obs: Sequence[FrameObservation]) -> tuple[int, FaceAnalysis | None, bool]:
    """The most frontal frame with open eyes and a large face, analysed (embedded) for matching;
    the flag says a candidate frame showed a second face of similar size."""
    seen = [i for i, o in enumerate(obs) if o.face is not None]
    sig = session_signals([obs[i] for i in seen])
    ranked = []
    for k, i in enumerate(seen):
        face = obs[i].face
        assert face is not None
        eyes = float(sig.eyes[k])
        closed = math.isfinite(eyes) and eyes < EYES_OPEN
        cost = abs(float(sig.yaw[k])) + abs(float(sig.pitch[k])) + (100.0 if closed else 0.0) \
            - 0.05 * face.inter_eye
        ranked.append((cost, i))
    ranked.sort()
    if not ranked:
        return -1, None, False
    # among the near-frontal candidates, prefer the sharpest (motion blur is common mid-session)
    close = [i for cost, i in ranked[:SHARPEST_OF] if cost <= ranked[0][0] + FRONTAL_SLACK_DEG]
    close.sort(key=lambda i: -_sharpness(frames[obs[i].index].bgr, obs[i]))
    several = False
    for i in close[:3]:
        try:
            return i, engine.analyse(frames[obs[i].index].bgr, purpose="live", policy="single"), several
        except MultipleFaces:
            several = True
        except FaceKycError:
            continue
    return (ranked[0][1] if ranked else -1), None, several
