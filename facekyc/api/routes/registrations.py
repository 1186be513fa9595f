"""Registration: document + document photo + a checked capture session -> a decision."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile

from facekyc.api.auth import Caller, require
from facekyc.api.problems import problem_responses
from facekyc.api.routes._deps import get_registry, registration_view
from facekyc.api.routing import MediaTypeRoute
from facekyc.api.schemas import RegistrationView
from facekyc.api.uploads import IMAGE_TYPES, read_upload
from facekyc.documents import parse_document
from facekyc.errors import FaceKycError
from facekyc.registry.numbers import validate_iccid
from facekyc.registry.registration import RegistrationRequest
from facekyc.registry.service import Registry

router = APIRouter(prefix="/v1/registrations", tags=["registrations"], route_class=MediaTypeRoute)
RegistryDep = Annotated[Registry, Depends(get_registry)]


@router.post("", response_model=RegistrationView, status_code=201,
             summary="Register a number: approved, rejected or sent to review, with every reason",
             description="multipart/form-data. The live face comes only from `capture_session_id` (a checked "
                         "capture session, used once). Input errors (document, ICCID, image) are 4xx problems "
                         "and write nothing; a decision, whatever it is, is 201 with the registration.",
             responses=problem_responses(403, 404, 409, 410, 413, 415, 422))
def create_registration(
    registry: RegistryDep,
    caller: Annotated[Caller, Depends(require("clerk"))],
    operator_id: Annotated[str, Form(max_length=32)],
    doc_type: Annotated[str, Form(description="cn_ric, passport_mrz or id_card_mrz")],
    document: Annotated[str, Form(max_length=200, description="ID number (cn_ric) or MRZ lines")],
    capture_session_id: Annotated[str, Form(max_length=64)],
    iccid: Annotated[str, Form(max_length=24, description="ICCID of the SIM handed out")],
    consent_version: Annotated[str, Form(min_length=1, max_length=64, description="Version of the consent text")],
    consent_at: Annotated[datetime, Form(description="When the customer consented (ISO 8601)")],
    document_photo: Annotated[UploadFile, File(description="Card image or chip portrait (JPEG/PNG/WebP/JP2)")],
    name: Annotated[str | None, Form(max_length=200, description="Name as on the document (stored encrypted)")]
    = None,
) -> RegistrationView:
    caller.scope.require_operator(operator_id)  # 403 before any work
    doc = parse_document(doc_type, document)
    checked_iccid = validate_iccid(iccid)
    photo = read_upload(document_photo, "document_photo", registry.settings.max_upload_bytes, IMAGE_TYPES)
    t0 = time.perf_counter()
    try:
        face = registry.engine.analyse(photo, purpose="document", policy="primary", lazy=True)  # dlib if needed
    except FaceKycError as exc:
        exc.field = exc.field or "document_photo"
        raise
    registry.metrics.stage("document_analysis", time.perf_counter() - t0)
    registry.metrics.engine_timings(face.timings_ms)
    retained = photo if registry.settings.retain_images_days > 0 else None
    request = RegistrationRequest(operator_id=operator_id, document=doc, document_face=face,
                                  capture_session_id=capture_session_id, iccid=checked_iccid,
                                  consent_version=consent_version, consent_at=consent_at,
                                  name=name or doc.display_name, document_photo=retained, photo=photo)
    result = registry.registrations.register(request, caller.actor, caller.scope)
    return registration_view(result.registration, result.msisdn)


@router.get("/{registration_id}", response_model=RegistrationView, summary="A registration and its decision",
            responses=problem_responses(404))
def get_registration(registration_id: str, registry: RegistryDep,
                     caller: Annotated[Caller, Depends(require("clerk", "reviewer", "auditor"))]) -> RegistrationView:
    reg, msisdn = registry.registrations.get(registration_id, caller.scope)
    return registration_view(reg, msisdn)
