"""The review queue: pending cases with scores and reasons (never images); approve or reject with a comment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from facekyc.api.auth import Caller, require
from facekyc.api.problems import problem_responses
from facekyc.api.routes._deps import MAX_INT32, get_registry, registration_view
from facekyc.api.routing import MediaTypeRoute
from facekyc.api.schemas import RegistrationView, ReviewDecisionIn
from facekyc.registry.service import Registry

router = APIRouter(prefix="/v1/reviews", tags=["review queue"], route_class=MediaTypeRoute)
RegistryDep = Annotated[Registry, Depends(get_registry)]
Reviewer = Annotated[Caller, Depends(require("reviewer"))]


@router.get("", response_model=list[RegistrationView], summary="Pending cases, oldest first",
            responses=problem_responses(422))
def list_reviews(registry: RegistryDep, caller: Reviewer, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                 offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0) -> list[RegistrationView]:
    return [registration_view(r, None) for r in registry.reviews.pending(caller.scope, limit, offset)]


@router.post("/{registration_id}", response_model=RegistrationView,
             summary="Decide a case; approval completes the registration in one transaction",
             responses=problem_responses(404, 409, 415, 422))
def decide_review(registration_id: str, body: ReviewDecisionIn, registry: RegistryDep,
                  caller: Reviewer) -> RegistrationView:
    result = registry.reviews.decide(registration_id, body.decision, body.comment, caller.actor, caller.scope)
    return registration_view(result.registration, result.msisdn)
