"""Review evidence: what a reviewer may look at while a case is open, and nothing after.

A case sent to review keeps its document-photo face crop and its best live frame's face crop, sealed
under the case's own data key. Deciding the case deletes the row (key and images: crypto-shred);
a case left open past `review_evidence_max_days` loses them too, and `purged_at` says so. The other
subscriber's face in a `duplicate_face` case exists only with `keep_enrolment_crop`, sealed under
that subscriber's data key and shredded with it at erasure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select, update

from facekyc.registry import audit
from facekyc.registry.capture import CONSUME_WINDOW
from facekyc.registry.errors import NotFound
from facekyc.storage.db import transaction, with_retry
from facekyc.storage.models import CaptureSession, Registration, ReviewEvidence, Subscriber, as_utc, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from facekyc.registry.service import Registry

CaseImage = Literal["document", "live"]
NO_ENROLMENT_CROP = ("No picture of the enrolled customer is kept (FACEKYC_KEEP_ENROLMENT_CROP is off), so their face "
                     "cannot be shown. Compare the document details instead, or ask the customer to come back "
                     "with their document; if in doubt, reject with a comment saying why.")
NOT_KEPT = ("No face crop was kept for this case (FACEKYC_REVIEW_EVIDENCE_MAX_DAYS is 0, or the case predates "
            "review evidence).")


def _owner(registration_id: str) -> str:
    return f"evidence:{registration_id}"


def _subscriber_owner(subscriber: Subscriber) -> str:
    return subscriber.ref


def keep(registry: Registry, session: Session, registration_id: str, document_crop: bytes | None,
         live_crop: bytes | None) -> ReviewEvidence | None:
    """Seal a new case's face crops under its own data key, inside the caller's transaction."""
    days = registry.settings.review_evidence_max_days
    if days <= 0 or (document_crop is None and live_crop is None):
        return None
    owner = _owner(registration_id)
    key, wrapped = registry.vault.new_key(owner)
    now = utcnow()
    row = ReviewEvidence(
        registration_id=registration_id, wrapped_key=wrapped, created_at=now, purge_after=now + timedelta(days=days),
        document_ciphertext=registry.vault.seal(key, document_crop, owner, "document") if document_crop else None,
        live_ciphertext=registry.vault.seal(key, live_crop, owner, "live") if live_crop else None)
    session.add(row)
    return row


def shred(session: Session, registration_id: str) -> bool:
    """Delete a case's evidence (at its decision): without the wrapped key nothing can be opened again."""
    row = session.get(ReviewEvidence, registration_id)
    if row is None:
        return False
    session.delete(row)
    return True


def open_case_image(registry: Registry, row: ReviewEvidence, kind: CaseImage) -> bytes:
    blob = row.document_ciphertext if kind == "document" else row.live_ciphertext
    if row.wrapped_key is None or blob is None:
        raise NotFound(f"no {kind} image is kept for this case", code="evidence_not_found")
    owner = _owner(row.registration_id)
    return registry.vault.open(registry.vault.open_key(row.wrapped_key, owner), blob, owner, kind)


def open_live_crop(registry: Registry, row: ReviewEvidence | None) -> bytes | None:
    """The case's live crop, if still kept (approval may keep it as the enrolment crop)."""
    if row is None or row.live_ciphertext is None or row.wrapped_key is None:
        return None
    return open_case_image(registry, row, "live")


def seal_subscriber_crop(registry: Registry, key: bytes, subscriber: Subscriber, crop: bytes | None) -> None:
    """With keep_enrolment_crop: the enrolment face crop under the subscriber's own data key."""
    if crop is not None and registry.settings.keep_enrolment_crop:
        subscriber.face_crop_ciphertext = registry.vault.seal(key, crop, _subscriber_owner(subscriber), "face_crop")


def open_subscriber_crop(registry: Registry, subscriber: Subscriber) -> bytes | None:
    if subscriber.wrapped_key is None or subscriber.face_crop_ciphertext is None:
        return None
    owner = _subscriber_owner(subscriber)
    key = registry.vault.open_key(subscriber.wrapped_key, owner)
    return registry.vault.open(key, subscriber.face_crop_ciphertext, owner, "face_crop")


@dataclass(frozen=True)
class MatchFace:
    subscriber: str
    available: bool


@dataclass(frozen=True)
class CaseEvidence:
    """What the console can show for an open case, and in words what it cannot."""

    registration: Registration
    row: ReviewEvidence | None
    matches: list[MatchFace]

    @property
    def images(self) -> list[CaseImage]:
        row = self.row
        if row is None or row.wrapped_key is None:
            return []
        kept: list[CaseImage] = []
        if row.document_ciphertext is not None:
            kept.append("document")
        if row.live_ciphertext is not None:
            kept.append("live")
        return kept

    @property
    def purged_at(self) -> datetime | None:
        return as_utc(self.row.purged_at) if self.row is not None and self.row.purged_at else None

    def notes(self, max_days: int) -> list[str]:
        out = []
        if self.purged_at is not None:
            out.append(f"The face crops of this case were destroyed on {self.purged_at:%Y-%m-%d} because the case "
                       f"stayed open longer than {max_days} days. Decide on the scores and document details, or "
                       "ask the customer to come back.")
        elif self.row is None:
            out.append(NOT_KEPT)
        if any(not m.available for m in self.matches):
            out.append(NO_ENROLMENT_CROP)
        return out


OperatorCheck = Callable[[str], bool]


def pending_case(session: Session, registration_id: str, allowed: OperatorCheck) -> Registration:
    """The case, if the caller may see its operator's cases and it is still open: evidence of a decided
    case is gone (404). Another operator's case is "no such registration", as if it did not exist."""
    reg = session.get(Registration, registration_id)
    if reg is None or not allowed(reg.operator_id):
        raise NotFound("no such registration", code="registration_not_found")
    if reg.status != "pending_review":
        raise NotFound("this case is decided: its evidence was destroyed", code="evidence_not_found")
    return reg


def compared_refs(session: Session, reg: Registration) -> list[str]:
    """The enrolled subscribers this case's live face was compared with and found questionable: the ones a
    `duplicate_face` rule named, and the identity's own enrolled face for `identity_face_mismatch`."""
    refs: list[str] = []
    for rule in reg.rules:
        if rule.get("code") == "duplicate_face":
            refs.extend(str(m["subscriber"]) for m in rule.get("detail", {}).get("matches", []) if m.get("subscriber"))
        elif rule.get("code") == "identity_face_mismatch" and reg.subscriber_id is not None:
            own = session.get(Subscriber, reg.subscriber_id)
            if own is not None:
                refs.append(own.ref)
    return refs


def case_evidence(session: Session, registration_id: str, allowed: OperatorCheck) -> CaseEvidence:
    reg = pending_case(session, registration_id, allowed)
    refs = compared_refs(session, reg)
    available = set()
    if refs:
        available = set(session.execute(select(Subscriber.ref).where(
            Subscriber.ref.in_(refs), Subscriber.face_crop_ciphertext.is_not(None),
            Subscriber.wrapped_key.is_not(None))).scalars())
    return CaseEvidence(reg, session.get(ReviewEvidence, registration_id),
                        [MatchFace(ref, ref in available) for ref in refs])


def purge_stale(session: Session, now: datetime) -> tuple[int, int]:
    """Drop the key and crops of cases open past their limit, and the crops of captures never used."""
    cases = session.execute(update(ReviewEvidence).where(ReviewEvidence.purge_after <= now,
                                                          ReviewEvidence.purged_at.is_(None))
                            .values(wrapped_key=None, document_ciphertext=None, live_ciphertext=None, purged_at=now)
                            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    captures = session.execute(update(CaptureSession).where(CaptureSession.face_crop_ciphertext.is_not(None),
                                                            CaptureSession.uploaded_at <= now - CONSUME_WINDOW)
                               .values(face_crop_ciphertext=None)
                               .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    return int(cases), int(captures)


def view_image(registry: Registry, registration_id: str, what: str, actor: str, allowed: OperatorCheck) -> bytes:
    """One audited look at an open case's image: `what` is document, live or a duplicate's subscriber ref.

    The audit entry and the read share one transaction: no image leaves without its entry."""
    def tx() -> bytes:
        with transaction(registry.sessions) as session:
            reg = pending_case(session, registration_id, allowed)
            if what in ("document", "live"):
                row = session.get(ReviewEvidence, registration_id)
                if row is None:
                    raise NotFound(NOT_KEPT, code="evidence_not_found")
                image = open_case_image(registry, row, what)  # type: ignore[arg-type]
                details = {"image": what}
            else:
                if what not in compared_refs(session, reg):
                    raise NotFound("this case names no such subscriber", code="evidence_not_found")
                subscriber = session.execute(select(Subscriber).where(Subscriber.ref == what)).scalar_one_or_none()
                crop = open_subscriber_crop(registry, subscriber) if subscriber is not None else None
                if crop is None:
                    raise NotFound(NO_ENROLMENT_CROP, code="evidence_not_found")
                image, details = crop, {"image": "enrolled", "subscriber": what}
            audit.append(session, actor=actor, action="review.evidence_viewed", target=registration_id,
                         details=details)
            return image
    return with_retry(tx)
