"""Shared route dependencies and converters."""

from __future__ import annotations

from fastapi import Request

from facekyc.api.schemas import ExplainedScoreView, RegistrationView, ReviewView, RuleView
from facekyc.registry.service import Registry
from facekyc.storage.models import Registration, as_utc
from facekyc.vision.fmr_words import explain_score

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
        created_at=as_utc(reg.created_at), review=review, explained=explained_scores(reg))


def explained_scores(reg: Registration) -> list[ExplainedScoreView]:
    """Each comparison of the decision with its margin and estimated FMR in words (where recorded)."""
    scores, out = reg.scores, []
    floor = scores.get("estimated_fmr_floor")

    def add(name: str, score: float, threshold: float, fmr: float) -> None:
        out.append(ExplainedScoreView(name=name, **explain_score(score, threshold, fmr, floor).to_dict()))

    if "document_vs_live" in scores and "estimated_fmr" in scores:
        add("document_vs_live", scores["document_vs_live"], scores["threshold"], scores["estimated_fmr"])
    if "enrolled_vs_live_estimated_fmr" in scores:
        add("enrolled_vs_live", scores["enrolled_vs_live"], scores["threshold"],
            scores["enrolled_vs_live_estimated_fmr"])
    for rule in reg.rules:
        if rule.get("code") == "duplicate_face":
            for match in rule["detail"].get("matches", []):
                if "estimated_fmr" in match:
                    add(f"duplicate:{match['subscriber']}", match["score"], rule["detail"]["threshold"],
                        match["estimated_fmr"])
    return out
