"""Liveness/readiness probes and Prometheus metrics (no authentication: keep them off the public edge)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from facekyc.api.problems import problem_responses
from facekyc.api.routes._deps import get_registry
from facekyc.api.routing import MediaTypeRoute
from facekyc.api.schemas import Health, Readiness
from facekyc.errors import FaceKycError
from facekyc.registry.service import Registry
from facekyc.storage import migrate

router = APIRouter(tags=["operations"], route_class=MediaTypeRoute)
RegistryDep = Annotated[Registry, Depends(get_registry)]


class NotReady(FaceKycError):
    code = "not_ready"
    status = 503


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, summary="Database reachable and schema current",
            responses={503: problem_responses(503)[503]})
def readyz(registry: RegistryDep) -> Readiness:
    try:
        with registry.db.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = migrate.current_revision(registry.db)
    except Exception as exc:
        raise NotReady("the database is not reachable") from exc
    return Readiness(status="ready", database=registry.db.dialect.name, templates_indexed=len(registry.index),
                     schema_revision=revision)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
                             "description": "Prometheus text exposition format"}})
def metrics(registry: RegistryDep) -> Response:
    return Response(generate_latest(registry.metrics.registry), media_type=CONTENT_TYPE_LATEST)
