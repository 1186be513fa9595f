"""`create_app`: the FastAPI application over one Registry (engine, database, keys, index).

`liveness=` replaces the liveness checker; it exists for tests and can only be passed from Python,
never from settings or the environment.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi_offline import FastAPIOffline

from facekyc import __version__
from facekyc.api import problems
from facekyc.api.auth import RateLimiter
from facekyc.api.memory import limit_malloc_arenas
from facekyc.api.middleware import BodyLimit, CompleteOnError, FaceWorkGate, describe_busy
from facekyc.api.routes import (
    admin,
    audit,
    capture,
    document_photos,
    health,
    lines,
    operators,
    registrations,
    reviews,
    verifications,
)
from facekyc.api.text_input import reject_nul
from facekyc.config import Settings
from facekyc.registry.liveness import LivenessChecker
from facekyc.registry.retention import purge_due
from facekyc.registry.service import Registry
from facekyc.web import mount_web

if TYPE_CHECKING:
    from facekyc.vision.engine import FaceEngine

log = logging.getLogger("facekyc.api")
FORM_OVERHEAD = 64 * 1024  # room for the text fields of a multipart body
RETENTION_INTERVAL_S = 3600.0

DESCRIPTION = """Face-verified SIM registration: an identity document, its photo and a live capture
(liveness-checked) decide whether a number is registered. Every error is an RFC 9457
`application/problem+json` document with a stable `code`. Authenticate with an API key
(`Authorization: Bearer fk_...`); each route names the role it needs."""


def create_app(settings: Settings | None = None, engine: FaceEngine | None = None, *,
               liveness: LivenessChecker | None = None, registry: Registry | None = None,
               schema: str | None = None) -> FastAPI:
    """Build the app; opens (and migrates) the database and loads the face engine if none is given."""
    settings = registry.settings if registry is not None else (settings or Settings())
    if settings.malloc_arena_max > 0:
        limit_malloc_arenas(settings.malloc_arena_max)  # before the engine and the request threads allocate
    if registry is None:
        if engine is None:
            from facekyc.vision.engine import FaceEngine

            engine = FaceEngine(threads=settings.engine_threads, max_pixels=settings.max_image_pixels)
        registry = Registry.open(settings, engine, liveness=liveness, schema=schema)
    settings = registry.settings
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if settings.retain_images_days > 0 or settings.review_evidence_max_days > 0:
            worker = threading.Thread(target=_retention_loop, args=(registry, stop), daemon=True,
                                      name="facekyc-retention")
            worker.start()
        yield
        stop.set()
        if worker is not None:
            worker.join(timeout=5)

    # FastAPIOffline: the same FastAPI app, with /docs and /redoc assets served locally instead of a CDN
    app = FastAPIOffline(title="facekyc", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                         dependencies=[Depends(reject_nul)],
                  openapi_tags=[{"name": "registrations"}, {"name": "capture sessions"}, {"name": "review queue"},
                                {"name": "lines"}, {"name": "verification"}, {"name": "administration"},
                                {"name": "audit"}, {"name": "operations"}])
    app.state.registry = registry
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    problems.install(app)
    for module in (health, capture, registrations, reviews, lines, verifications, document_photos, admin, audit,
                   operators):
        app.include_router(module.router)
    mount_web(app)  # the kiosk and review pages (/kiosk, /review, /static)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # innermost first: a complete 500, the streamed body limit, then the face-work gate (all measured below)
    app.add_middleware(CompleteOnError)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + FORM_OVERHEAD)
    app.add_middleware(FaceWorkGate, slots=settings.face_work_slots, retry_after_s=settings.busy_retry_after_s)

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        t0 = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        registry.metrics.request(request.method, template, response.status_code, time.perf_counter() - t0)
        return response

    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with every error response as problem+json (its own 422 schema included)."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                           tags=app.openapi_tags)
        problem_ref = {"$ref": "#/components/schemas/Problem"}
        for ops in spec.get("paths", {}).values():
            for op in ops.values():
                if "requestBody" in op:  # a body the framework cannot parse is 400 malformed_body
                    op["responses"].setdefault("400", {"description": "Bad request"})
                for status, response in op.get("responses", {}).items():
                    if status[0] in "45":
                        response["content"] = {problems.MEDIA_TYPE: {"schema": problem_ref}}
        describe_busy(spec)
        schemas = spec.get("components", {}).get("schemas", {})
        schemas.setdefault("Problem", problems.Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
        for unused in ("HTTPValidationError", "ValidationError"):
            if unused not in json.dumps(spec["paths"]):
                schemas.pop(unused, None)
        app.openapi_schema = spec
    return app.openapi_schema


def _retention_loop(registry: Registry, stop: threading.Event) -> None:
    """Purge due retained images at start and then every hour until shutdown."""
    while not stop.is_set():
        try:
            purge_due(registry)
        except Exception:
            log.exception("retention purge failed")
        stop.wait(RETENTION_INTERVAL_S)
