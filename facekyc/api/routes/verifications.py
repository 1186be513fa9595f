"""Stateless 1:1 verification for other points of service: two images in, a decision out, nothing stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile

from facekyc.api.auth import Caller, require
from facekyc.api.problems import problem_responses
from facekyc.api.routes._deps import get_registry
from facekyc.api.routing import MediaTypeRoute
from facekyc.api.schemas import VerificationView
from facekyc.api.uploads import IMAGE_TYPES, read_upload
from facekyc.registry.service import Registry
from facekyc.registry.verification import verify_faces
from facekyc.vision.fmr_words import explain_score, fmr_floor

router = APIRouter(prefix="/v1/verifications", tags=["verification"], route_class=MediaTypeRoute)


@router.post("", response_model=VerificationView, summary="Document photo vs live photo at the service FMR",
             description="multipart/form-data with `document_photo` and `live_photo`. Stores no image and no "
                         "template; only an audit entry with the decision and score.",
             responses=problem_responses(403, 413, 415, 422))
def verify(registry: Annotated[Registry, Depends(get_registry)],
           caller: Annotated[Caller, Depends(require("clerk"))],
           document_photo: Annotated[UploadFile, File()], live_photo: Annotated[UploadFile, File()]
           ) -> VerificationView:
    scope = caller.scope
    scope.own_operator()  # a clerk key from before operator scoping may not act until assigned
    limit = registry.settings.max_upload_bytes
    doc = read_upload(document_photo, "document_photo", limit, IMAGE_TYPES)
    live = read_upload(live_photo, "live_photo", limit, IMAGE_TYPES)
    result = verify_faces(registry, doc, live, caller.actor, scope)
    assert result.quality_a is not None and result.quality_b is not None
    words = explain_score(result.score, result.threshold, result.estimated_fmr, fmr_floor(registry.scorer))
    return VerificationView(decision=result.decision, score=result.score, threshold=result.threshold,
                            fmr_target=result.fmr_target, estimated_fmr=result.estimated_fmr, margin=words.margin,
                            fmr_words=words.fmr_words, summary=words.summary,
                            quality_document=result.quality_a.to_dict(), quality_live=result.quality_b.to_dict())
