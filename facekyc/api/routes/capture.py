"""Capture sessions: create (challenge + nonce), upload frames or a video once, read the verdict."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status

from facekyc.api.auth import Caller, require
from facekyc.api.problems import problem_responses
from facekyc.api.routes._deps import get_registry
from facekyc.api.routing import MediaTypeRoute
from facekyc.api.schemas import CaptureSessionCreated, CaptureSessionView, LivenessView
from facekyc.api.sniff import declared_or_sniffed_type
from facekyc.api.uploads import read_upload
from facekyc.errors import InputError
from facekyc.registry.liveness import IMAGE_TYPES, MAX_TIMESTAMPS_CHARS, VIDEO_TYPES, decode_burst, decode_video
from facekyc.registry.service import Registry
from facekyc.storage.models import CaptureSession, as_utc

router = APIRouter(prefix="/v1/capture-sessions", tags=["capture sessions"], route_class=MediaTypeRoute)
RegistryDep = Annotated[Registry, Depends(get_registry)]
Clerk = Annotated[Caller, Depends(require("clerk"))]


def view(row: CaptureSession) -> CaptureSessionView:
    liveness = None
    if row.status == "checked":
        liveness = LivenessView(decision="live" if row.live else "not_live", reasons=list(row.reasons or []),
                                scores={k: float(v) for k, v in (row.scores or {}).items()})
    return CaptureSessionView(id=row.id, status=row.status,
                              challenge=list(row.challenge), created_at=as_utc(row.created_at),
                              expires_at=as_utc(row.expires_at),
                              uploaded_at=as_utc(row.uploaded_at) if row.uploaded_at else None,
                              used=row.consumed_at is not None, liveness=liveness, quality=row.quality)


@router.post("", response_model=CaptureSessionCreated, status_code=status.HTTP_201_CREATED,
             summary="Start a live capture: a random challenge and a single-use nonce",
             responses=problem_responses(403))
def create_capture_session(registry: RegistryDep, caller: Clerk) -> CaptureSessionCreated:
    new = registry.captures.create(caller.actor, caller.scope.own_operator())
    return CaptureSessionCreated(id=new.session.id, nonce=new.nonce, expires_at=as_utc(new.session.expires_at),
                                 challenge=list(new.session.challenge), step_ms=registry.settings.capture_step_ms)


@router.post("/{capture_id}/frames", response_model=CaptureSessionView,
             summary="Upload the capture once: a JPEG burst with client timestamps, or one video",
             description="multipart/form-data with `nonce` and either `frames` (several image/jpeg parts) plus "
                         "`timestamps` (JSON list of client times in ms, one per frame) or `video` (video/webm or "
                         "video/mp4; a part labelled application/octet-stream, as curl labels .webm files, is typed by "
                         "its first bytes). Runs the liveness check and stores only its result and the encrypted "
                         "best-frame embeddings. A second upload is refused (409 session_used).",
             responses=problem_responses(403, 404, 409, 410, 413, 415, 422, 503))
def upload_frames(capture_id: str, registry: RegistryDep, caller: Clerk,
                  nonce: Annotated[str, Form(min_length=8, max_length=200)],
                  frames: Annotated[list[UploadFile] | None, File(description="JPEG frames in order")] = None,
                  timestamps: Annotated[str | None, Form(description="JSON list of ms, one per frame",
                                                         max_length=MAX_TIMESTAMPS_CHARS)] = None,
                  video: Annotated[UploadFile | None, File(description="One video/webm or video/mp4")] = None,
                  ) -> CaptureSessionView:
    registry.captures.check_upload_allowed(capture_id, nonce, caller.scope)  # 403/404/409/410 before reading anything
    limit = registry.settings.max_upload_bytes
    if video is not None and frames:
        raise InputError("send either frames or a video, not both", code="ambiguous_upload", field="video")
    if video is not None:
        data = read_upload(video, "video", limit, VIDEO_TYPES)
        decoded = decode_video(data, declared_or_sniffed_type(video))
    else:
        images, total = [], 0
        for upload in frames or []:
            blob = read_upload(upload, "frames", limit, IMAGE_TYPES)
            total += len(blob)
            if total > limit:
                from facekyc.api.uploads import TooLarge

                raise TooLarge(f"frames: more than {limit} bytes in total", field="frames")
            images.append(blob)
        decoded = decode_burst(images, timestamps, max_pixels=registry.settings.max_image_pixels)
    return view(registry.captures.upload(capture_id, nonce, decoded, caller.scope))


@router.get("/{capture_id}", response_model=CaptureSessionView, summary="State and liveness verdict of a capture",
            description="Clerks follow their capture; reviewers and auditors read it as a case's evidence.",
            responses=problem_responses(404))
def get_capture_session(capture_id: str, registry: RegistryDep,
                        caller: Annotated[Caller, Depends(require("clerk", "reviewer", "auditor"))]
                        ) -> CaptureSessionView:
    return view(registry.captures.get(capture_id, caller.scope))
