"""The browser pages: the clerk kiosk (`/kiosk`) and the reviewer/auditor console (`/review`).

Plain HTML, CSS and small ES modules served from this package (no build step, nothing from a
CDN). The pages hold no secret: the clerk or reviewer signs in with an API key kept in the tab's
sessionStorage and sent as a bearer token to the same `/v1` API every other client uses.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
PAGES = {"/kiosk": "kiosk.html", "/review": "review.html"}
# ES modules must be served as JavaScript whatever the host's /etc/mime.types says
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/css", ".css")
mimetypes.add_type("image/svg+xml", ".svg")

# Same-origin only; camera allowed for this origin; no framing, no referrer, no inline script or style.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _page(name: str) -> Callable[[], Awaitable[FileResponse]]:
    path = WEB_DIR / name

    async def page() -> FileResponse:
        # no-store: the page itself is small, and nothing of a session should be cached
        return FileResponse(path, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})

    page.__name__ = f"page_{path.stem}"
    return page


def mount_web(app: FastAPI) -> None:
    """Serve `/kiosk`, `/review` and `/static/...` on `app`, with strict security headers."""
    for route, name in PAGES.items():
        app.add_api_route(route, _page(name), methods=["GET"], include_in_schema=False)

    async def home() -> RedirectResponse:
        return RedirectResponse("/kiosk", status_code=307)

    app.add_api_route("/", home, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.middleware("http")
    async def web_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        path = request.url.path
        if path in PAGES or path.startswith("/static/"):
            for header, value in SECURITY_HEADERS.items():
                response.headers.setdefault(header, value)
            if path.startswith("/static/"):
                response.headers.setdefault("Cache-Control", "no-cache")
        return response
