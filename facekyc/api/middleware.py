"""ASGI middleware that keeps every request bounded: the body limit counted while it streams, a bounded
number of face/liveness requests at once (503 `busy` beyond it), and a complete 500 instead of an
exception that would make uvicorn drop the keep-alive connection."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facekyc.api import problems

log = logging.getLogger("facekyc.api")

# The operations that run face detection, recognition or liveness: the work the gate bounds.
FACE_WORK_ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/v1/document-photo-checks"),
    ("POST", "/v1/capture-sessions/{capture_id}/frames"),
    ("POST", "/v1/registrations"),
    ("POST", "/v1/verifications"),
)


async def send_problem(send: Send, status: int, code: str, detail: str, path: str,
                       headers: dict[str, str] | None = None) -> None:
    """Send one complete problem+json response straight to the server."""
    response = problems.problem_response(status, code, detail, instance=path, headers=headers)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


class CompleteOnError:
    """Answer an unhandled exception with a generic 500 problem and return normally.

    Starlette's ServerErrorMiddleware sends its 500 and then re-raises, and uvicorn closes the
    connection when an application raises after its response started: the client's next request on
    that keep-alive connection was reset (issue 9). Installed innermost, so metrics see the 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unhandled error", extra={"path": scope.get("path", "")})
            if started:  # a half-sent response cannot be repaired; the server must drop the connection
                raise
            await send_problem(send, 500, "internal_error", "internal error", scope.get("path", ""))


class BodyLimit:
    """413 `upload_too_large` as soon as the body exceeds `limit` bytes, with or without Content-Length.

    Bytes are counted as the server hands them over, so a chunked upload is refused after about
    `limit` bytes instead of being spooled whole to disk; the connection is closed after the 413."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(send, path)
            return
        seen = 0
        refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    refused = True
                    await self._refuse(send, path)
                    return {"type": "http.disconnect"}  # the application stops reading and gives up
            return message

        async def guarded(message: Message) -> None:
            if not refused:  # after our 413 whatever the application answers is dropped
                await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, send: Send, path: str) -> None:
        await send_problem(send, 413, "upload_too_large", f"request body larger than {self.limit} bytes", path,
                           headers={"Connection": "close"})


class FaceWorkGate:
    """At most `slots` face/liveness requests at once; one more is answered 503 `busy` with Retry-After
    before its body is read, so load beyond capacity costs neither memory nor CPU."""

    def __init__(self, app: ASGIApp, slots: int, retry_after_s: int,
                 routes: Iterable[tuple[str, str]] = FACE_WORK_ROUTES) -> None:
        self.app = app
        self.slots = slots
        self.retry_after_s = retry_after_s
        self.routes: list[tuple[str, re.Pattern[str]]] = [(m, compile_path(p)[0]) for m, p in routes]
        self.busy = 0  # touched only on the event loop, so no lock is needed

    def gated(self, scope: Scope) -> bool:
        method, path = scope.get("method", ""), scope.get("path", "")
        return any(method == m and pattern.match(path) for m, pattern in self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.gated(scope):
            await self.app(scope, receive, send)
            return
        if self.busy >= self.slots:
            await send_problem(send, 503, "busy", f"all {self.slots} face-work slots are busy; retry shortly",
                               scope.get("path", ""), headers={"Retry-After": str(self.retry_after_s)})
            return
        self.busy += 1
        released = False

        async def send_then_free(message: Message) -> None:
            # free the slot before the last body chunk goes out: a client that waits for each answer
            # must find it free for its next request (after the send it could arrive first)
            nonlocal released
            if message["type"] == "http.response.body" and not message.get("more_body", False) and not released:
                released = True
                self.busy -= 1
            await send(message)

        try:
            await self.app(scope, receive, send_then_free)
        finally:
            if not released:
                self.busy -= 1


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1").strip()
    return None


def describe_busy(spec: dict[str, Any]) -> None:
    """Document 503 `busy` (with Retry-After) on every gated operation of an OpenAPI document."""
    for method, template in FACE_WORK_ROUTES:
        op = spec.get("paths", {}).get(template, {}).get(method.lower())
        if op is None:
            continue
        op["responses"]["503"] = {
            "description": "Busy: every face-work slot is taken (code `busy`); retry after the given seconds",
            "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
            "content": {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
