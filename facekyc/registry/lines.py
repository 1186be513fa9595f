"""Face-verified services on existing numbers: list the numbers under an ID, close one, replace a SIM.

Each needs a checked live capture matching the enrolled template; closing the last number of a
subscriber erases them (wrapped data key deleted = crypto-shredding) and drops them from the index.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import select

from facekyc.documents import IdentityDocument
from facekyc.registry import audit
from facekyc.registry.errors import Conflict, NotFound
from facekyc.registry.registration import iccid_in_use, lock_identity
from facekyc.registry.scope import Scope
from facekyc.registry.template_configs import ConfigUnavailable
from facekyc.storage import enrolment_log
from facekyc.storage.db import transaction, with_retry
from facekyc.storage.models import PhoneNumber, Subscriber, Subscription, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from facekyc.registry.service import Registry

log = logging.getLogger("facekyc.lines")
REENROL_ON = ("sim_replacement", "numbers_query")  # face-verified contacts that refresh an older template


@dataclass
class FaceCheck:
    """The outcome of matching a live capture against an enrolled subscriber."""

    decision: str
    reasons: list[str]
    scores: dict[str, Any]
    fmr_target: float
    lines: list[Subscription] = field(default_factory=list)
    erased: bool = False
    template_config: str | None = None  # set when the enrolled template was of an older configuration
    reenrolled_as: str | None = None  # the current configuration it was re-enrolled under, if it was

    def template_details(self) -> dict[str, str]:
        """For the audit entry: which configuration checked the face, and any re-enrolment."""
        out = {"template_config": self.template_config, "reenrolled_as": self.reenrolled_as}
        return {k: v for k, v in out.items() if v is not None}


class LineService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    def _match(self, session: Session, subscriber: Subscriber | None, capture_id: str, purpose: str,
               fmr: float, operator_id: str) -> FaceCheck:
        capture = self.r.captures.consume(session, capture_id, purpose, operator_id)
        if capture.embeddings is None:
            return FaceCheck("rejected", ["liveness_failed"], {}, fmr)
        if subscriber is None or subscriber.template_ciphertext is None:
            return FaceCheck("rejected", ["not_registered"], {}, fmr)
        try:
            self.r.configs.learn(session, subscriber.template_version)
            scorer = self.r.configs.scorer(subscriber.template_version)  # the template's own configuration
        except ConfigUnavailable:
            return FaceCheck("rejected", ["template_config_unavailable"], {}, fmr,
                             template_config=subscriber.template_version)
        enrolled = self.r.registrations.open_template(subscriber)
        score = scorer.template_score(float(np.dot(enrolled, scorer.template(capture.embeddings))))
        threshold = scorer.threshold(fmr)
        scores: dict[str, Any] = {"enrolled_vs_live": round(score, 4), "threshold": round(threshold, 4)}
        older = subscriber.template_version if subscriber.template_version != self.r.configs.current_id else None
        if score < threshold:
            return FaceCheck("rejected", ["face_mismatch"], scores, fmr, template_config=older)
        check = FaceCheck("approved", [], scores, fmr, template_config=older)
        if purpose in REENROL_ON and self.r.registrations.reenrol(session, subscriber, capture.embeddings):
            check.reenrolled_as = self.r.configs.current_id
        return check

    def _subscriber(self, session: Session, doc: IdentityDocument) -> Subscriber | None:
        identity = self.r.vault.blind_identity(doc)
        lock_identity(session, identity)
        return session.execute(select(Subscriber).where(Subscriber.identity_index == identity)).scalar_one_or_none()

    def _finish(self, kind: str, check: FaceCheck) -> FaceCheck:
        if check.reenrolled_as is not None:
            self.r.feed.catch_up()  # this process's indexes follow at once; the others at their next search
        self.r.metrics.decision(kind, check.decision, check.reasons)
        log.info(f"{kind} decided", extra={"decision": check.decision, "reasons": check.reasons})
        return check

    def numbers_for(self, doc: IdentityDocument, capture_id: str, actor: str, scope: Scope) -> FaceCheck:
        """The holder's active numbers at the key's operator, only after the live face matches."""
        operator_id = scope.own_operator()

        def tx() -> FaceCheck:
            with transaction(self.r.sessions) as session:
                subscriber = self._subscriber(session, doc)
                check = self._match(session, subscriber, capture_id, "numbers_query", self.r.settings.fmr_target,
                                    operator_id)
                if check.decision == "approved" and subscriber is not None:
                    check.lines = list(session.execute(select(Subscription).where(
                        Subscription.subscriber_id == subscriber.id, Subscription.status == "active",
                        Subscription.operator_id == operator_id)
                        .order_by(Subscription.created_at)).scalars())
                audit.append(session, actor=actor, action="numbers.queried", target=subscriber.ref if subscriber
                             else None, details={"decision": check.decision, "reasons": check.reasons,
                                                 "scores": check.scores, "count": len(check.lines),
                                                 **check.template_details(),
                                                 "operator": operator_id, "store": scope.store})
                return check
        return self._finish("numbers_query", with_retry(tx))

    def close(self, doc: IdentityDocument, msisdn: str, capture_id: str, actor: str, scope: Scope) -> FaceCheck:
        """End one number of the key's operator; with no active number left anywhere, erase the
        subscriber (crypto-shredding). Another operator's number is 404 line_not_found."""
        operator_id = scope.own_operator()

        def tx() -> tuple[FaceCheck, int | None]:
            erased_id = None
            with transaction(self.r.sessions) as session:
                subscriber = self._subscriber(session, doc)
                check = self._match(session, subscriber, capture_id, "closure", self.r.settings.fmr_target,
                                    operator_id)
                line = None
                if check.decision == "approved" and subscriber is not None:
                    line = session.execute(select(Subscription).where(
                        Subscription.subscriber_id == subscriber.id, Subscription.msisdn == msisdn,
                        Subscription.status == "active", Subscription.operator_id == operator_id)
                                           ).scalar_one_or_none()
                    if line is None:
                        raise NotFound("this identity holds no active line with that number", code="line_not_found",
                                       field="msisdn")
                    line.status, line.closed_at = "closed", utcnow()
                    number = session.get(PhoneNumber, line.phone_number_id)
                    if number is not None:
                        number.status, number.updated_at = "quarantined", utcnow()
                    session.flush()
                    left = session.execute(select(Subscription.id).where(
                        Subscription.subscriber_id == subscriber.id, Subscription.status == "active")).first()
                    if left is None:
                        erase(subscriber)
                        enrolment_log.append(session, subscriber.id, "remove")  # every process drops it
                        check.erased, erased_id = True, subscriber.id
                audit.append(session, actor=actor, action="line.closed" if line else "line.close_refused",
                             target=subscriber.ref if subscriber else None,
                             details={"decision": check.decision, "reasons": check.reasons, "scores": check.scores,
                                      **check.template_details(),
                                      "subscription": line.id if line else None, "subscriber_erased": check.erased,
                                      "operator": operator_id, "store": scope.store})
            return check, erased_id
        check, erased_id = with_retry(tx)
        if erased_id is not None:
            self.r.index.remove(erased_id)
        return self._finish("closure", check)

    def replace_sim(self, msisdn: str, new_iccid: str, capture_id: str, actor: str, scope: Scope) -> FaceCheck:
        """Move a number of the key's operator to a new SIM if the live face matches the enrolled
        one at the stricter FMR. Another operator's number is 404 line_not_found."""
        fmr, operator_id = self.r.settings.sim_swap_fmr_target, scope.own_operator()

        def tx() -> FaceCheck:
            with transaction(self.r.sessions) as session:
                line = session.execute(select(Subscription).where(Subscription.msisdn == msisdn,
                                                                  Subscription.status == "active",
                                                                  Subscription.operator_id == operator_id)
                                       ).scalar_one_or_none()
                if line is None:
                    raise NotFound("no active line with that number", code="line_not_found", field="msisdn")
                if line.iccid == new_iccid or iccid_in_use(session, new_iccid):
                    raise Conflict("this SIM (ICCID) is already in service", code="iccid_in_use", field="iccid")
                subscriber = session.get(Subscriber, line.subscriber_id)
                check = self._match(session, subscriber, capture_id, "sim_replacement", fmr, operator_id)
                if check.decision == "approved":
                    line.iccid = new_iccid
                    check.lines = [line]
                audit.append(session, actor=actor, action="sim.replaced" if check.decision == "approved"
                             else "sim.replacement_refused", target=line.id,
                             details={"decision": check.decision, "reasons": check.reasons, "scores": check.scores,
                                      **check.template_details(),
                                      "fmr_target": fmr, "operator": operator_id, "store": scope.store})
                return check
        return self._finish("sim_replacement", with_retry(tx))


def erase(subscriber: Subscriber) -> None:
    """Crypto-shredding: without the wrapped data key no ciphertext of the row can ever be opened."""
    subscriber.wrapped_key = None
    subscriber.template_ciphertext = subscriber.document_ciphertext = subscriber.name_ciphertext = None
    subscriber.face_crop_ciphertext = None
    subscriber.identity_index = None
    subscriber.status, subscriber.erased_at = "erased", utcnow()
