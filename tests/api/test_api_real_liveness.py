"""The production liveness path (no test hook): a still photo burst must not pass as live."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from facekyc.storage.models import CaptureSession


def test_still_burst_is_not_live_with_the_real_checker(deploy: Callable[..., Any], api_factory: Any,
                                                       faces: Any, ids: Any) -> None:
    dep = deploy(liveness=None)  # the default checker, exactly as `facekyc serve` builds it
    api = api_factory(TestClient(dep.app, raise_server_exceptions=False), dep.admin_token)
    api.operator("op", numbers=2)
    clerk = api.key("clerk")
    created = api.client.post("/v1/capture-sessions", headers=clerk).json()
    jpeg = faces("Colin_Powell_0074")[1]
    files = [("frames", (f"{i}.jpg", jpeg, "image/jpeg")) for i in range(12)]
    r = api.client.post(f"/v1/capture-sessions/{created['id']}/frames", headers=clerk, files=files,
                        data={"nonce": created["nonce"], "timestamps": str([i * 100 for i in range(12)])})
    if importlib.util.find_spec("facekyc.vision.liveness.check") is None:
        # checker not installed yet: a clear 503, and the session stays usable for a retry
        assert r.status_code == 503 and r.json()["code"] == "liveness_unavailable", r.text
        with dep.registry.sessions() as s:
            assert s.execute(select(CaptureSession.status).where(CaptureSession.id == created["id"])
                             ).scalar_one() == "open"
        return
    assert r.status_code == 200, r.text
    assert r.json()["liveness"]["decision"] == "not_live" and r.json()["liveness"]["reasons"]
    reg = api.register(faces("Colin_Powell_0038")[0], created["id"], ids.ric(50))
    assert reg.status_code == 201 and reg.json()["decision"] == "rejected"
    assert reg.json()["reasons"] == ["liveness_failed"]
