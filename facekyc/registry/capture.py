"""Capture sessions: a random challenge and nonce, one upload, the liveness verdict, one use.

Only the verdict, the sealed best-frame embeddings and (for review evidence) the best frame's sealed
face crop are kept, until the capture is used or its use window is over; frames are never stored
(unless image retention is on, and then only the best frame, encrypted, until its purge date).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select, update

from facekyc.registry.embeddings import pack_embeddings, unpack_embeddings
from facekyc.registry.errors import Conflict, Forbidden, Gone, NotFound
from facekyc.registry.scope import Scope
from facekyc.storage.db import transaction
from facekyc.storage.models import CaptureSession, as_utc, utcnow
from facekyc.vision.liveness.types import CapturedFrame, Challenge, LivenessResult

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from facekyc.registry.service import Registry

log = logging.getLogger("facekyc.capture")
STEPS: tuple[Challenge, ...] = tuple(Challenge)
_OPPOSITE = {Challenge.TURN_LEFT: Challenge.TURN_RIGHT, Challenge.TURN_RIGHT: Challenge.TURN_LEFT,
             Challenge.LOOK_UP: Challenge.LOOK_DOWN, Challenge.LOOK_DOWN: Challenge.LOOK_UP}
CONSUME_WINDOW = timedelta(minutes=10)  # a checked capture must be used this soon after its upload


def random_challenge() -> list[Challenge]:
    """2-3 distinct steps from the secrets RNG; no step right after its opposite (hard to perform)."""
    count = 2 + secrets.randbelow(2)
    steps: list[Challenge] = []
    while len(steps) < count:
        step = secrets.choice(STEPS)
        if step in steps or (steps and _OPPOSITE.get(steps[-1]) == step):
            continue
        steps.append(step)
    return steps


def parse_fixed_challenge(text: str) -> list[Challenge]:
    try:
        return [Challenge(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise ValueError(f"test_fixed_challenge: {exc}; use {', '.join(c.value for c in STEPS)}") from None


def finite(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities (which PostgreSQL's json refuses) become None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


@dataclass(frozen=True)
class NewCapture:
    session: CaptureSession
    nonce: str


@dataclass(frozen=True)
class LiveCapture:
    """A checked capture as registration and SIM replacement use it."""

    session: CaptureSession
    embeddings: dict[str, np.ndarray] | None
    face_crop: bytes | None = None  # the best frame's face (JPEG), kept only for review evidence


class CaptureService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    def challenge(self) -> list[Challenge]:
        fixed = self.r.settings.test_fixed_challenge
        if fixed and self.r.settings.test_mode:
            log.warning("TEST MODE: capture session uses the fixed challenge %s", fixed)
            return parse_fixed_challenge(fixed)
        return random_challenge()

    def create(self, actor: str, operator_id: str) -> NewCapture:
        """A capture owned by the creating key's operator: only keys of that operator may use it."""
        nonce = secrets.token_urlsafe(24)
        now = utcnow()
        row = CaptureSession(id="cap_" + secrets.token_hex(12), nonce_hash=_nonce_hash(nonce),
                             challenge=[c.value for c in self.challenge()], created_by=actor, created_at=now,
                             operator_id=operator_id,
                             expires_at=now + timedelta(seconds=self.r.settings.capture_session_ttl_s),
                             status="open")
        with transaction(self.r.sessions) as session:
            session.add(row)
        log.info("capture session created", extra={"capture_session": row.id, "actor": actor})
        return NewCapture(row, nonce)

    def get(self, capture_id: str, scope: Scope) -> CaptureSession:
        """The session if the key's scope covers its operator; 404 otherwise, as if absent."""
        with self.r.sessions() as session:
            row = session.get(CaptureSession, capture_id)
        if row is None or not scope.sees(row.operator_id):
            raise NotFound("no such capture session", code="session_not_found")
        return row

    def check_upload_allowed(self, capture_id: str, nonce: str, scope: Scope) -> CaptureSession:
        """404 / 403 nonce_mismatch / 409 session_used / 410 session_expired, before any work."""
        row = self.get(capture_id, scope)
        if not hmac.compare_digest(row.nonce_hash, _nonce_hash(nonce)):
            raise Forbidden("the nonce does not belong to this capture session", code="nonce_mismatch")
        if row.status != "open":
            raise Conflict("this capture session already received its upload", code="session_used")
        if as_utc(row.expires_at) < utcnow():
            raise Gone("the capture session expired; start a new one", code="session_expired")
        return row

    def upload(self, capture_id: str, nonce: str, frames: list[CapturedFrame], scope: Scope) -> CaptureSession:
        """Claim the session (single use), run the liveness check, store only its result."""
        row = self.check_upload_allowed(capture_id, nonce, scope)
        with transaction(self.r.sessions) as session:
            claimed = session.execute(update(CaptureSession).where(CaptureSession.id == capture_id,
                                                                   CaptureSession.status == "open")
                                      .values(status="checking", uploaded_at=utcnow())).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            raise Conflict("this capture session already received its upload", code="session_used")
        if self.r.settings.test_mode and self.r.settings.test_fixed_challenge:
            log.warning("TEST MODE: liveness check with a fixed challenge", extra={"capture_session": capture_id})
        try:
            t0 = time.perf_counter()
            result = self.r.liveness(self.r.engine, frames, [Challenge(c) for c in row.challenge], None)
            self.r.metrics.stage("liveness", time.perf_counter() - t0)
            if result.best is not None:
                self.r.metrics.engine_timings(result.best.timings_ms)
        except Exception:
            with transaction(self.r.sessions) as session:  # the client may retry after a server error
                session.execute(update(CaptureSession).where(CaptureSession.id == capture_id)
                                .values(status="open", uploaded_at=None))
            raise
        with transaction(self.r.sessions) as session:
            stored = self._store(session, capture_id, result, frames)
        self.r.metrics.decision("liveness", "live" if stored.live else "not_live",
                                [str(x) for x in stored.reasons or []])
        log.info("capture checked", extra={"capture_session": capture_id, "live": stored.live,
                                           "reasons": stored.reasons})
        return stored

    def _store(self, session: Session, capture_id: str, result: LivenessResult,
               frames: list[CapturedFrame]) -> CaptureSession:
        row = session.get(CaptureSession, capture_id)
        assert row is not None
        row.status = "checked"
        row.live = bool(result.live and result.best is not None)
        row.reasons = [r.value for r in result.reasons] or ([] if row.live else ["no_face"])
        row.scores = {k: round(float(v), 4) for k, v in result.scores.items() if math.isfinite(float(v))}
        if result.best is not None:
            owner = f"capture:{row.id}"
            key, wrapped = self.r.vault.new_key(owner)
            row.wrapped_key = wrapped
            row.embeddings_ciphertext = self.r.vault.seal(key, pack_embeddings(result.best.embeddings), owner,
                                                          "embeddings")
            row.quality = finite(result.best.quality.to_dict())
            if result.best_frame_index is not None and self._keeps_crops():
                from facekyc.vision.evidence_crop import face_crop_jpeg

                crop = face_crop_jpeg(frames[result.best_frame_index].bgr, result.best.face)
                if crop is not None:
                    row.face_crop_ciphertext = self.r.vault.seal(key, crop, owner, "face_crop")
            if result.best_frame_index is not None and self.r.settings.retain_images_days > 0:
                from facekyc.registry.retention import retain_image
                from facekyc.vision.image import encode_jpeg

                retain_image(self.r, session, row.id, "live", encode_jpeg(frames[result.best_frame_index].bgr))
        return row

    def _keeps_crops(self) -> bool:
        """A face crop is needed only if a review case or an enrolment may keep it."""
        return self.r.settings.review_evidence_max_days > 0 or self.r.settings.keep_enrolment_crop

    def consume(self, session: Session, capture_id: str, purpose: str, operator_id: str) -> LiveCapture:
        """Mark a checked capture used (inside the caller's transaction) and open its embeddings;
        only for the operator that created it (another operator's capture is 404, left unused)."""
        query = select(CaptureSession).where(CaptureSession.id == capture_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = session.execute(query).scalar_one_or_none()
        if row is None or row.operator_id != operator_id:
            raise NotFound("no such capture session", code="session_not_found", field="capture_session_id")
        if row.consumed_at is not None:
            raise Conflict("this capture session was already used", code="session_used", field="capture_session_id")
        if row.status != "checked":
            raise Conflict("this capture session has no checked upload yet", code="capture_incomplete",
                           field="capture_session_id")
        if row.uploaded_at is not None and as_utc(row.uploaded_at) + CONSUME_WINDOW < utcnow():
            raise Gone("the capture is too old; capture the face again", code="session_expired",
                       field="capture_session_id")
        result = session.execute(update(CaptureSession).where(CaptureSession.id == capture_id,
                                                              CaptureSession.consumed_at.is_(None))
                                 .values(consumed_at=utcnow(), consumed_for=purpose, wrapped_key=None,
                                         embeddings_ciphertext=None, face_crop_ciphertext=None)
                                 .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("this capture session was already used", code="session_used", field="capture_session_id")
        embeddings = crop = None  # opened from the values read above; the row's copy is shredded by the update
        if row.live and row.wrapped_key is not None and row.embeddings_ciphertext is not None:
            owner = f"capture:{row.id}"
            key = self.r.vault.open_key(row.wrapped_key, owner)
            embeddings = unpack_embeddings(self.r.vault.open(key, row.embeddings_ciphertext, owner, "embeddings"))
            if row.face_crop_ciphertext is not None:
                crop = self.r.vault.open(key, row.face_crop_ciphertext, owner, "face_crop")
        return LiveCapture(row, embeddings, crop)


def expires_in(row: CaptureSession) -> datetime:
    return as_utc(row.expires_at)
