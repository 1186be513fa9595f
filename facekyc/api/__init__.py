"""The HTTP API (FastAPI): routes, authentication, RFC 9457 problems, metrics. Build it with `create_app`."""

from facekyc.api.app import create_app

__all__ = ["create_app"]
