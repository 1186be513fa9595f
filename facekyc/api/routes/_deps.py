"""Shared route dependencies and converters."""

from __future__ import annotations

from fastapi import Request

from facekyc.api.schemas import RegistrationView, ReviewView, RuleView
from facekyc.registry.service import Registry
from facekyc.storage.models import Registration, as_utc

MAX_INT32 = 2**31 - 1  # the INTEGER range both databases share (PostgreSQL binds offsets and seq as int4)


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def registration_view(reg: Registration, msisdn: str | None) -> RegistrationView:
    review = None
    if reg.review_decision is not None and reg.reviewed_at is not None:
        review = ReviewView(decision=reg.review_decision,
                            comment=reg.review_comment or "", reviewed_by=reg.reviewed_by or "",
                            reviewed_at=as_utc(reg.reviewed_at))
    return RegistrationView(
        id=reg.id, decision=reg.decision, status=reg.status,
        reasons=list(reg.reasons), rules=[RuleView(**r) for r in reg.rules],
        scores={k: float(v) for k, v in reg.scores.items()}, fmr_target=reg.fmr_target,
        operator_id=reg.operator_id, doc_type=reg.doc_type, capture_session_id=reg.capture_session_id,
        msisdn=msisdn, consent_version=reg.consent_version, consent_at=as_utc(reg.consent_at),
        created_at=as_utc(reg.created_at), review=review)
