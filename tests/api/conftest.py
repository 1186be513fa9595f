"""API fixtures: the real app over a fresh database (SQLite or a new PostgreSQL schema), optionally
served by a real uvicorn on a free port, and a still-photo liveness hook for tests."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from idnumbers import iccid, ric_number

from facekyc.api import create_app
from facekyc.config import Settings
from facekyc.registry.service import Registry
from facekyc.storage import testing as pg
from facekyc.vision.image import encode_jpeg
from facekyc.vision.liveness.types import CapturedFrame, Challenge, LivenessReason, LivenessResult

NOT_LIVE_T0 = 666.0  # a burst whose first timestamp is this is judged not live by the test hook


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        reason = pg.postgres_unavailable(pg.postgres_url())
        if reason:
            pytest.skip(reason)
    return str(request.param)


@pytest.fixture(scope="session")
def still_liveness(engine: Any) -> Callable[..., LivenessResult]:
    """TEST ONLY: real face analysis of the first uploaded frame, no motion checks (a still photo cannot
    perform a challenge). Cached per frame content so repeated uploads cost nothing."""
    cache: dict[str, Any] = {}

    def check(eng: Any, frames: list[CapturedFrame], challenge: list[Challenge], now_ms: float | None
              ) -> LivenessResult:
        if frames[0].t_ms == NOT_LIVE_T0:
            return LivenessResult(False, [LivenessReason.PLANAR_MOTION], {"planar": 0.1}, [], None, None)
        digest = hashlib.sha256(frames[0].bgr.tobytes()).hexdigest()
        if digest not in cache:
            cache[digest] = eng.analyse(frames[0].bgr, purpose="live", policy="single")
        return LivenessResult(True, [], {"test_hook": 1.0}, [], 0, cache[digest])

    return check


@dataclass
class Deployment:
    """One app over one fresh database, plus what the test needs to reach and inspect it."""

    app: FastAPI
    registry: Registry
    admin_token: str
    data_dir: Path
    schema: str | None
    base_url: str = ""
    server: uvicorn.Server | None = field(default=None, repr=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def deploy(backend: str, engine: Any, still_liveness: Any, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Callable[..., Deployment]]:
    """Factory: deploy(serve=True/False, liveness=..., **settings) -> Deployment; torn down after the module."""
    made: list[Deployment] = []

    def factory(*, serve: bool = False, liveness: Any = "still", **overrides: Any) -> Deployment:
        data_dir = tmp_path_factory.mktemp(f"{backend}-data")
        schema = None
        if backend == "postgres":
            schema = pg.create_schema(pg.postgres_url())
            overrides.setdefault("database_url", pg.postgres_url())
        settings = Settings(data_dir=data_dir, **overrides)
        app = create_app(settings, engine, liveness=still_liveness if liveness == "still" else liveness,
                         schema=schema)
        registry: Registry = app.state.registry
        token = registry.ensure_admin_key()
        assert token is not None
        dep = Deployment(app, registry, token, data_dir, schema)
        if serve:
            port = free_port()
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            threading.Thread(target=server.run, daemon=True).start()
            deadline = time.monotonic() + 20
            while not server.started:
                if time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start")
                time.sleep(0.05)
            dep.base_url, dep.server = f"http://127.0.0.1:{port}", server
        made.append(dep)
        return dep

    yield factory
    for dep in made:
        if dep.server is not None:
            dep.server.should_exit = True
        dep.registry.close()
        if dep.schema:
            pg.drop_schema(pg.postgres_url(), dep.schema)


# ---- request helpers ------------------------------------------------------------------------------



class Api:
    """A thin client: one method per step a point of sale takes."""

    def __init__(self, client: httpx.Client | Any, admin_token: str) -> None:
        self.client = client
        self.admin = {"Authorization": f"Bearer {admin_token}"}
        self.tokens: dict[str, dict[str, str]] = {"admin": self.admin}
        self._iccid = 0

    def key(self, role: str, operator: str = "op") -> dict[str, str]:
        """A key of `role`: clerks belong to `operator` (created empty if absent), reviewers and auditors
        are global; the role name is the cache key for the default operator."""
        slot = role if operator == "op" else f"{role}@{operator}"
        if slot not in self.tokens:
            body: dict[str, Any] = {"name": f"test {slot}", "role": role}
            if role == "clerk":
                self._ensure_operator(operator)
                body["operator_id"] = operator
            elif role in ("reviewer", "auditor"):
                body["global"] = True
            r = self.client.post("/v1/api-keys", json=body, headers=self.admin)
            assert r.status_code == 201, r.text
            self.tokens[slot] = {"Authorization": f"Bearer {r.json()['token']}"}
        return self.tokens[slot]

    def _ensure_operator(self, op_id: str) -> None:
        if self.client.get(f"/v1/operators/{op_id}", headers=self.admin).status_code == 404:
            r = self.client.post("/v1/operators", json={"id": op_id, "name": op_id.upper(), "country": "CN"},
                                 headers=self.admin)
            assert r.status_code == 201, r.text

    def operator(self, op_id: str, numbers: int, limit: int | None = None, first: int = 0) -> None:
        r = self.client.post("/v1/operators", json={"id": op_id, "name": op_id.upper(), "country": "CN",
                                                    "max_numbers_per_identity": limit}, headers=self.admin)
        # a clerk key made earlier may have created the operator empty, with the default limit
        assert r.status_code == 201 or (r.status_code == 409 and limit is None), r.text
        msisdns = [f"139{first + i:08d}" for i in range(numbers)]
        r = self.client.post(f"/v1/operators/{op_id}/numbers", json={"msisdns": msisdns}, headers=self.admin)
        assert r.status_code == 201, r.text

    def capture(self, live_jpeg: bytes, *, t0: float = 0.0, operator: str = "op") -> str:
        clerk = self.key("clerk", operator)
        r = self.client.post("/v1/capture-sessions", headers=clerk)
        assert r.status_code == 201, r.text
        session = r.json()
        files = [("frames", (f"f{i}.jpg", live_jpeg, "image/jpeg")) for i in range(3)]
        r = self.client.post(f"/v1/capture-sessions/{session['id']}/frames", headers=clerk, files=files,
                             data={"nonce": session["nonce"], "timestamps": f"[{t0}, {t0 + 100}, {t0 + 200}]"})
        assert r.status_code == 200, r.text
        return str(session["id"])

    def register(self, doc_photo: bytes, capture_id: str, document: str, *, operator: str = "op",
                 name: str | None = "Test Person", doc_type: str = "cn_ric",
                 clerk_of: str | None = None) -> httpx.Response:
        self._iccid += 1
        data = {"operator_id": operator, "doc_type": doc_type, "document": document,
                "capture_session_id": capture_id, "iccid": iccid(self._iccid), "consent_version": "kyc-consent-v3",
                "consent_at": "2026-01-05T10:00:00Z"}
        if name:
            data["name"] = name
        r: httpx.Response = self.client.post("/v1/registrations", headers=self.key("clerk", clerk_of or operator),
                                             data=data,
                                             files={"document_photo": ("doc.jpg", doc_photo, "image/jpeg")})
        return r


@pytest.fixture(scope="session")
def faces(lfw_images: Path) -> Callable[[str], tuple[bytes, bytes]]:
    """name_NNNN -> (document photo bytes as in LFW, live frame JPEG upscaled to 500x500 like a camera)."""
    cache: dict[str, tuple[bytes, bytes]] = {}

    def get(key: str) -> tuple[bytes, bytes]:
        if key not in cache:
            person = key.rsplit("_", 1)[0]
            path = lfw_images / person / f"{key}.jpg"
            if not path.exists():
                pytest.skip(f"{path} is missing from the test data")
            raw = path.read_bytes()
            pixels = cv2.imread(str(path))
            assert pixels is not None
            big = cv2.resize(pixels, (500, 500), interpolation=cv2.INTER_CUBIC)
            cache[key] = (raw, encode_jpeg(big))
        return cache[key]

    return get


@pytest.fixture(scope="session")
def api_factory() -> Callable[..., Api]:
    return Api


@pytest.fixture(scope="session")
def ids() -> Any:
    class Ids:
        ric = staticmethod(ric_number)
        sim = staticmethod(iccid)
    return Ids
