"""Face-verified services on existing lines: numbers under my ID, closure, SIM replacement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from facekyc.api.auth import Caller, require
from facekyc.api.problems import problem_responses
from facekyc.api.routes._deps import get_registry
from facekyc.api.routing import MediaTypeRoute
from facekyc.api.schemas import ClosureIn, FaceCheckView, LineView, NumbersQueryIn, SimReplacementIn
from facekyc.documents import parse_document
from facekyc.registry.lines import FaceCheck
from facekyc.registry.numbers import normalise_msisdn, validate_iccid
from facekyc.registry.service import Registry
from facekyc.storage.models import as_utc

router = APIRouter(prefix="/v1", tags=["lines"], route_class=MediaTypeRoute)
RegistryDep = Annotated[Registry, Depends(get_registry)]
Clerk = Annotated[Caller, Depends(require("clerk"))]
ERRORS = problem_responses(403, 404, 409, 410, 415, 422)


def view(check: FaceCheck) -> FaceCheckView:
    return FaceCheckView(decision=check.decision, reasons=check.reasons,
                         scores={k: float(v) for k, v in check.scores.items()}, fmr_target=check.fmr_target,
                         numbers=[LineView(msisdn=s.msisdn, operator_id=s.operator_id, since=as_utc(s.created_at))
                                  for s in check.lines], subscriber_erased=check.erased)


@router.post("/numbers-query", response_model=FaceCheckView, summary="Numbers registered to a document",
             description="Needs the document holder's live face (a checked capture session) matching the "
                         "enrolled template; lists the active numbers only when it does.", responses=ERRORS)
def numbers_query(body: NumbersQueryIn, registry: RegistryDep, caller: Clerk) -> FaceCheckView:
    doc = parse_document(body.doc_type, body.document)
    return view(registry.lines.numbers_for(doc, body.capture_session_id, caller.actor, caller.scope))


@router.post("/closures", response_model=FaceCheckView, summary="End a number (face-verified)",
             description="When the subscriber has no active number left, their template and data key are "
                         "deleted (crypto-shredding) and they leave the face index.", responses=ERRORS)
def close_line(body: ClosureIn, registry: RegistryDep, caller: Clerk) -> FaceCheckView:
    doc = parse_document(body.doc_type, body.document)
    msisdn = normalise_msisdn(body.msisdn, "ZZ")
    return view(registry.lines.close(doc, msisdn, body.capture_session_id, caller.actor, caller.scope))


@router.post("/sim-replacements", response_model=FaceCheckView, summary="Move a number to a new SIM",
             description="The live face must match the enrolled template at the stricter SIM-swap FMR.",
             responses=ERRORS)
def replace_sim(body: SimReplacementIn, registry: RegistryDep, caller: Clerk) -> FaceCheckView:
    msisdn = normalise_msisdn(body.msisdn, "ZZ")
    iccid = validate_iccid(body.new_iccid)
    return view(registry.lines.replace_sim(msisdn, iccid, body.capture_session_id, caller.actor, caller.scope))
