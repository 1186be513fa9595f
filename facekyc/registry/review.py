"""The review queue: a person decides cases the rules could not (possible duplicates, face changes)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from sqlalchemy import select

from facekyc.registry import audit, evidence
from facekyc.registry.errors import Conflict, NotFound
from facekyc.registry.numbers import assign_number
from facekyc.registry.policy import number_limit
from facekyc.registry.registration import active_count, iccid_in_use, lock_identity
from facekyc.registry.scope import Scope
from facekyc.storage.db import transaction, with_retry
from facekyc.storage.models import Operator, Registration, ReviewEvidence, Subscriber, Subscription, utcnow

if TYPE_CHECKING:
    from facekyc.registry.service import Registry

log = logging.getLogger("facekyc.review")


@dataclass
class ReviewOutcome:
    registration: Registration
    msisdn: str | None = None
    enrolled: tuple[int, np.ndarray] | None = None


class ReviewService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    def pending(self, scope: Scope, limit: int = 100, offset: int = 0) -> list[Registration]:
        """Pending cases the key may see (its operator's, or all for a global reviewer)."""
        query = select(Registration).where(Registration.status == "pending_review")
        if scope.operator_id is not None:
            query = query.where(Registration.operator_id == scope.operator_id)
        with self.r.sessions() as session:
            return list(session.execute(query.order_by(Registration.created_at).limit(limit).offset(offset)).scalars())

    def decide(self, registration_id: str, verdict: Literal["approve", "reject"], comment: str,
               actor: str, scope: Scope) -> ReviewOutcome:
        result = with_retry(lambda: self._decide_tx(registration_id, verdict, comment, actor, scope))
        if result.enrolled is not None:
            self.r.index.add(*result.enrolled)
        reg = result.registration
        self.r.metrics.decision("review", reg.review_decision or "", reg.reasons)
        log.info("review decided", extra={"registration": reg.id, "verdict": verdict})
        return result

    def _decide_tx(self, registration_id: str, verdict: str, comment: str, actor: str,
                   scope: Scope) -> ReviewOutcome:
        with transaction(self.r.sessions) as session:
            query = select(Registration).where(Registration.id == registration_id)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update()
            reg = session.execute(query).scalar_one_or_none()
            if reg is None or not scope.sees(reg.operator_id):
                raise NotFound("no such registration", code="registration_not_found")
            if reg.status != "pending_review":
                raise Conflict("this registration is not waiting for review", code="review_closed")
            result = ReviewOutcome(reg)
            if verdict == "approve":
                doc, name, template = self.r.registrations.open_pending(reg)
                identity = self.r.vault.blind_identity(doc)
                lock_identity(session, identity)
                operator = session.get(Operator, reg.operator_id)
                assert operator is not None
                subscriber = session.execute(select(Subscriber).where(Subscriber.identity_index == identity)
                                             ).scalar_one_or_none()
                if subscriber is not None:
                    held, limit = active_count(session, subscriber.id, operator.id), number_limit(self.r.settings,
                                                                                               operator)
                    if held >= limit:
                        raise Conflict(f"the identity already holds {held} numbers (limit {limit})",
                                       code="number_limit")
                if iccid_in_use(session, reg.iccid):
                    raise Conflict("this SIM (ICCID) is already in service", code="iccid_in_use")
                number = assign_number(session, operator.id)
                if number is None:
                    raise Conflict("the operator's number pool is empty", code="no_number_available")
                live_crop = evidence.open_live_crop(self.r, session.get(ReviewEvidence, reg.id))
                subscriber, enrolled = self.r.registrations.enrol(session, subscriber, identity, doc, name, template,
                                                                  live_crop)
                sub = Subscription(id="sub_" + secrets.token_hex(12), operator_id=operator.id,
                                   subscriber_id=subscriber.id, phone_number_id=number.id, msisdn=number.msisdn,
                                   iccid=reg.iccid, registration_id=reg.id)
                session.add(sub)
                reg.status, reg.subscriber_id, reg.subscription_id = "completed", subscriber.id, sub.id
                result.msisdn, result.enrolled = number.msisdn, enrolled
            else:
                reg.status = "rejected"
            reg.review_decision = "approved" if verdict == "approve" else "rejected"
            reg.review_comment, reg.reviewed_by, reg.reviewed_at = comment, actor, utcnow()
            reg.wrapped_key = reg.payload_ciphertext = None  # the case is closed: shred its payload
            shredded = evidence.shred(session, reg.id)  # and its face crops
            session.flush()
            audit.append(session, actor=actor, action="review.decided", target=reg.id, details={
                "verdict": reg.review_decision, "reasons": reg.reasons, "subscription": reg.subscription_id,
                "evidence_shredded": shredded})
        return result
