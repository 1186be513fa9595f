"""The review queue: pending cases with scores and reasons; while a case is open, its face crops (each view
audited, never cached); approve or reject with a comment, which destroys them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from facekyc.api.auth import Caller, require
from facekyc.api.problems import problem_responses
from facekyc.api.routes._deps import MAX_INT32, get_registry, registration_view
from facekyc.api.routing import MediaTypeRoute
from facekyc.api.schemas import EvidenceMatchView, EvidenceView, RegistrationView, ReviewDecisionIn
from facekyc.registry import evidence
from facekyc.registry.service import Registry
from facekyc.storage.models import as_utc

router = APIRouter(prefix="/v1/reviews", tags=["review queue"], route_class=MediaTypeRoute)
RegistryDep = Annotated[Registry, Depends(get_registry)]
Reviewer = Annotated[Caller, Depends(require("reviewer"))]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
JPEG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/jpeg": {}}, "description": "The face crop (JPEG)"}}
CaseId = Annotated[str, Path(max_length=64)]


def may_review(caller: Caller, operator_id: str) -> bool:
    """Reviewer keys see only their operator's cases; global reviewer keys see every operator's."""
    return caller.scope.sees(operator_id)


@router.get("", response_model=list[RegistrationView], summary="Pending cases, oldest first",
            responses=problem_responses(422))
def list_reviews(registry: RegistryDep, caller: Reviewer, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                 offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0) -> list[RegistrationView]:
    return [registration_view(r, None) for r in registry.reviews.pending(caller.scope, limit, offset)]


@router.post("/{registration_id}", response_model=RegistrationView,
             summary="Decide a case; approval completes the registration in one transaction",
             description="The case's face crops are destroyed with the decision.",
             responses=problem_responses(404, 409, 415, 422))
def decide_review(registration_id: str, body: ReviewDecisionIn, registry: RegistryDep,
                  caller: Reviewer) -> RegistrationView:
    result = registry.reviews.decide(registration_id, body.decision, body.comment, caller.actor, caller.scope)
    return registration_view(result.registration, result.msisdn)


@router.get("/{registration_id}/evidence", response_model=EvidenceView,
            summary="What an open case can show: its face crops and the duplicate's, or why not",
            description="404 `evidence_not_found` once the case is decided. Not cached.",
            responses=problem_responses(404, 422))
def case_evidence(registration_id: CaseId, registry: RegistryDep, caller: Reviewer, response: Response
                  ) -> EvidenceView:
    response.headers.update(NO_STORE)
    with registry.sessions() as session:
        case = evidence.case_evidence(session, registration_id, lambda op: may_review(caller, op))
    base = f"/v1/reviews/{registration_id}/evidence"
    row = case.row
    return EvidenceView(
        registration_id=registration_id, images={kind: f"{base}/{kind}" for kind in case.images},
        matches=[EvidenceMatchView(subscriber=m.subscriber, available=m.available,
                                   url=f"{base}/subscribers/{m.subscriber}" if m.available else None)
                 for m in case.matches],
        purge_after=as_utc(row.purge_after) if row is not None and row.purged_at is None else None,
        purged_at=case.purged_at, notes=case.notes(registry.settings.review_evidence_max_days))


def _image(registry: Registry, registration_id: str, what: str, caller: Caller) -> Response:
    data = evidence.view_image(registry, registration_id, what, caller.actor, lambda op: may_review(caller, op))
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


@router.get("/{registration_id}/evidence/{kind}", response_class=Response,
            responses={**JPEG, **problem_responses(404, 422)},
            summary="The document or live face crop of an open case (audited, not cached)")
def case_image(registration_id: CaseId, kind: Literal["document", "live"], registry: RegistryDep,
               caller: Reviewer) -> Response:
    return _image(registry, registration_id, kind, caller)


@router.get("/{registration_id}/evidence/subscribers/{subscriber_ref}", response_class=Response,
            responses={**JPEG, **problem_responses(404, 422)},
            summary="The enrolled face crop of a subscriber this case's duplicate rule named (audited, not cached)",
            description="Only with FACEKYC_KEEP_ENROLMENT_CROP; otherwise 404 `evidence_not_found`.")
def duplicate_image(registration_id: CaseId, subscriber_ref: Annotated[str, Path(max_length=32)],
                    registry: RegistryDep, caller: Reviewer) -> Response:
    return _image(registry, registration_id, subscriber_ref, caller)
