"""A route class that answers 415 when the request body is not the media type the route reads.

Every route with a body needs an API key, so a request without one gets 401 first: an anonymous
caller learns nothing about the route, not even what it reads."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.params import Form
from fastapi.routing import APIRoute

from facekyc.api.auth import MISSING_KEY, Unauthorized, has_credentials
from facekyc.api.uploads import UnsupportedType


class MediaTypeRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        expected: str | None = None
        if self.body_field is not None:
            expected = "multipart/form-data" if isinstance(self.body_field.field_info, Form) else "application/json"

        async def checked(request: Request) -> Response:
            if expected is not None and not has_credentials(request):
                raise Unauthorized(MISSING_KEY)
            if expected is not None:
                got = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if got != expected:
                    raise UnsupportedType(f"this endpoint reads {expected}, not {got or 'an unspecified type'}")
            return await handler(request)

        return checked
