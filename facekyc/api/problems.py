"""Every error as RFC 9457 application/problem+json with a stable `code` (and `field`/`fields`)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from facekyc.errors import FaceKycError

log = logging.getLogger("facekyc.api")
PROBLEM_TYPE_BASE = "https://facekyc.dev/problems/"
MEDIA_TYPE = "application/problem+json"

_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           409: "Conflict", 410: "Gone", 413: "Content too large", 415: "Unsupported media type",
           422: "Unprocessable content", 429: "Too many requests", 500: "Internal server error",
           503: "Service unavailable"}


class Problem(BaseModel):
    """RFC 9457 problem details, plus a stable machine `code` and the input field(s) at fault."""

    type: str = Field(description="URI naming the problem type", examples=[PROBLEM_TYPE_BASE + "face_mismatch"])
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable code", examples=["document_invalid"])
    field: str | None = Field(None, description="The first input field at fault")
    fields: list[str] | None = Field(None, description="Every input field at fault")
    instance: str | None = None


def problem_response(status: int, code: str, detail: str, *, field: str | None = None,
                     fields: list[str] | None = None, instance: str | None = None,
                     headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(type=PROBLEM_TYPE_BASE + code, title=_TITLES.get(status, "Error"), status=status,
                   detail=detail, code=code, field=field, fields=fields, instance=instance)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=MEDIA_TYPE,
                        headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problem schema for each error status."""
    wanted = sorted({401, 403, 429, 500, *statuses})
    return {s: {"model": Problem, "description": _TITLES.get(s, "Error"), "content": {MEDIA_TYPE: {}}}
            for s in wanted}


class RateLimited(FaceKycError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _allowed_methods(request: Request) -> str:
    """Every documented method at this request's path, as an Allow header value ("" for an undocumented path)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if compile_path(template)[0].match(request.url.path):
            methods |= {m.upper() for m in operations}
    if "GET" in methods:
        methods.add("HEAD")  # Starlette answers HEAD wherever it answers GET
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    @app.exception_handler(FaceKycError)
    async def _typed(request: Request, exc: FaceKycError) -> JSONResponse:
        fields = getattr(exc, "fields", None)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        if exc.status >= 500:
            log.error("server error", extra={"code": exc.code, "path": request.url.path})
        return problem_response(exc.status, exc.code, exc.message, field=exc.field,
                                fields=list(fields) if fields else ([exc.field] if exc.field else None),
                                instance=request.url.path, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields: list[str] = []
        messages: list[str] = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
            name = "body" if err.get("type") == "json_invalid" else ".".join(loc) or "body"  # loc: a char offset
            fields.append(name)
            messages.append(f"{name}: {err.get('msg', 'invalid')}")  # never echo the input value
        return problem_response(422, "validation_error", "; ".join(messages) or "invalid request",
                                field=fields[0] if fields else None, fields=fields or None,
                                instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 400 comes only from the framework: a body that cannot be parsed (not UTF-8 JSON, broken multipart)
        code = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, f"http_{exc.status_code}")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette's Allow names one route's methods; a path may have several
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return problem_response(exc.status_code, code, str(exc.detail), instance=request.url.path, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem_response(500, "internal_error", "internal error", instance=request.url.path)
