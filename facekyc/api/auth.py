"""API-key authentication, role checks and per-key rate limits (a sliding one-minute window)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from facekyc.api.problems import RateLimited
from facekyc.errors import FaceKycError
from facekyc.registry import apikeys
from facekyc.registry.errors import Forbidden
from facekyc.registry.scope import Scope

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token: `Authorization: Bearer fk_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key in the X-API-Key header")


class Unauthorized(FaceKycError):
    code = "unauthorized"
    status = 401


@dataclass(frozen=True)
class Caller:
    """The authenticated API key making the request, and what it may see."""

    key_id: str
    role: str
    scope_or_error: Scope | Forbidden

    @property
    def actor(self) -> str:
        return f"apikey:{self.key_id}"

    @property
    def scope(self) -> Scope:
        """The key's operator scope; 403 key_not_scoped for a clerk key never given an operator."""
        if isinstance(self.scope_or_error, Forbidden):
            raise self.scope_or_error
        return self.scope_or_error


class RateLimiter:
    """At most `per_minute` requests per key in any 60 s window (per process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key_id]
            while hits and hits[0] <= now - 60.0:
                hits.popleft()
            if len(hits) >= self.per_minute:
                retry = max(1, int(60.0 - (now - hits[0])) + 1)
                raise RateLimited(f"rate limit of {self.per_minute} requests per minute reached", retry)
            hits.append(now)


MISSING_KEY = "an API key is required (Authorization: Bearer ... or X-API-Key)"


def has_credentials(request: Request) -> bool:
    """Whether the request carries an API key at all (checked before anything reads the body)."""
    auth = request.headers.get("authorization", "")
    return bool(request.headers.get("x-api-key")) or (auth.lower().startswith("bearer ") and bool(auth[7:].strip()))


def require(*roles: str) -> Callable[..., Caller]:
    """A dependency that authenticates the key, checks its role and applies the rate limit."""
    allowed = frozenset(roles)

    def dependency(request: Request,
                   bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                   header: Annotated[str | None, Depends(_header)]) -> Caller:
        token = bearer.credentials if bearer is not None else header
        if not token:
            raise Unauthorized(MISSING_KEY)
        registry = request.app.state.registry
        with registry.sessions() as session:
            key = apikeys.authenticate(session, token)
        if key is None:
            raise Unauthorized("unknown or revoked API key")
        request.app.state.rate_limiter.check(key.id)
        if key.role not in allowed:
            raise Forbidden(f"this operation needs the role {' or '.join(sorted(allowed))}", code="wrong_role")
        request.state.caller = key.id
        try:
            scope: Scope | Forbidden = apikeys.scope_of(key)
        except Forbidden as exc:
            scope = exc
        return Caller(key.id, key.role, scope)

    dependency.__name__ = f"require_{'_'.join(sorted(allowed))}"
    return dependency
