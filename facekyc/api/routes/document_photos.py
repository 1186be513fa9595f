"""Document-photo check for the kiosk: where the face is on a card image or chip portrait, nothing stored.

Not a biometric comparison and it holds no personal data once answered, so it stores no image, no
template, no row and writes no audit entry.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile

from facekyc.api.auth import Caller, require
from facekyc.api.problems import problem_responses
from facekyc.api.routes._deps import get_registry
from facekyc.api.routing import MediaTypeRoute
from facekyc.api.schemas import DocumentPhotoCheckView, FaceBoxView
from facekyc.api.uploads import IMAGE_TYPES, read_upload
from facekyc.errors import FaceKycError
from facekyc.registry.document_photo import check_document_photo
from facekyc.registry.service import Registry

router = APIRouter(prefix="/v1/document-photo-checks", tags=["verification"], route_class=MediaTypeRoute)


@router.post("", response_model=DocumentPhotoCheckView, summary="Find the face on a document photo and rate it",
             description="multipart/form-data with `photo` (card image or chip portrait). Answers the face box, "
                         "landmarks and quality at the document limits, as a registration would assess the "
                         "photo. Not a biometric comparison: stores no image, no template, no audit entry.",
             responses=problem_responses(413, 415, 422))
def check_photo(registry: Annotated[Registry, Depends(get_registry)],
                caller: Annotated[Caller, Depends(require("clerk"))],
                photo: Annotated[UploadFile, File(description="Card image or chip portrait (JPEG/PNG/WebP/JP2)")]
                ) -> DocumentPhotoCheckView:
    """The face found on `photo` (422 no_face / image_unreadable with field `photo`); nothing is written."""
    data = read_upload(photo, "photo", registry.settings.max_upload_bytes, IMAGE_TYPES)
    try:
        found = check_document_photo(registry, data)
    except FaceKycError as exc:
        exc.field = exc.field or "photo"
        raise
    return DocumentPhotoCheckView(
        image_size=found.image_size, face=FaceBoxView(box=found.box, landmarks=found.landmarks,
                                                      confidence=found.confidence),
        faces_found=found.faces_found, quality=found.quality.to_dict(), usable=found.usable)
