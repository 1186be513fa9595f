"""An operator as a clerk's kiosk sees it: does this operator id exist, and what is it called."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from facekyc.api.auth import Caller, require
from facekyc.api.problems import problem_responses
from facekyc.api.routes._deps import get_registry
from facekyc.api.routing import MediaTypeRoute
from facekyc.api.schemas import OperatorPublicView
from facekyc.registry.errors import NotFound
from facekyc.registry.service import Registry
from facekyc.storage.models import Operator

router = APIRouter(prefix="/v1/operators", tags=["administration"], route_class=MediaTypeRoute)


@router.get("/{operator_id}/public", response_model=OperatorPublicView,
            summary="An operator's name and country (for the kiosk's operator field)",
            description="Clerk, reviewer or admin. 404 `operator_not_found` for an unknown id. No pool counts.",
            responses=problem_responses(404, 422))
def operator_public(operator_id: Annotated[str, Path(max_length=32)],
                    registry: Annotated[Registry, Depends(get_registry)],
                    caller: Annotated[Caller, Depends(require("clerk", "reviewer", "admin"))]) -> OperatorPublicView:
    with registry.sessions() as session:
        op = session.get(Operator, operator_id)
    if op is None:
        raise NotFound(f"no operator has the id {operator_id!r}", code="operator_not_found", field="operator_id")
    return OperatorPublicView(id=op.id, name=op.name, country=op.country)
