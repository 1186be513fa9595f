"""The production liveness path (no test hook): a still photo burst must not pass as live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from clips import still_from_clip
from fastapi.testclient import TestClient


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
    assert r.status_code == 200, r.text
    assert r.json()["liveness"]["decision"] == "not_live" and r.json()["liveness"]["reasons"]
    reg = api.register(faces("Colin_Powell_0038")[0], created["id"], ids.ric(50))
    assert reg.status_code == 201 and reg.json()["decision"] == "rejected"
    assert reg.json()["reasons"] == ["liveness_failed"]


def test_video_capture_with_the_real_checker_registers_the_person(deploy: Callable[..., Any], api_factory: Any,
                                                                  test_data: Path, ids: Any, faces: Any) -> None:
    """A WebM/MP4 clip uploaded to a capture session goes through the full liveness check; its best frame
    is the live face the registration matches. The clip can only do its own motions (turn toward image
    right = the subject's left, then the other way), so the challenge is fixed in test mode."""
    clip = test_data / "liveness-dev" / "real_turns.mp4"
    dep = deploy(liveness=None, test_mode=True, test_fixed_challenge="turn_left,turn_right")
    api = api_factory(TestClient(dep.app, raise_server_exceptions=False), dep.admin_token)
    api.operator("op", numbers=2)
    clerk = api.key("clerk")
    created = api.client.post("/v1/capture-sessions", headers=clerk).json()
    assert created["challenge"] == ["turn_left", "turn_right"]
    video = clip.read_bytes()
    r = api.client.post(f"/v1/capture-sessions/{created['id']}/frames", headers=clerk,
                        files={"video": ("capture.mp4", video, "video/mp4")}, data={"nonce": created["nonce"]})
    assert r.status_code == 200, r.text
    assert r.json()["liveness"]["decision"] == "live", r.json()
    again = api.client.post(f"/v1/capture-sessions/{created['id']}/frames", headers=clerk,
                            files={"video": ("capture.mp4", video, "video/mp4")}, data={"nonce": created["nonce"]})
    assert again.status_code == 409  # single use
    same = api.register(still_from_clip(clip, 1.0), created["id"], ids.ric(60))
    assert same.status_code == 201 and same.json()["decision"] == "approved", same.json()

    # the same clip for the reverse challenge is refused, and so is a registration with it
    reverse = deploy(liveness=None, test_mode=True, test_fixed_challenge="turn_right,turn_left")
    api2 = api_factory(TestClient(reverse.app, raise_server_exceptions=False), reverse.admin_token)
    api2.operator("op", numbers=1)
    created = api2.client.post("/v1/capture-sessions", headers=api2.key("clerk")).json()
    r = api2.client.post(f"/v1/capture-sessions/{created['id']}/frames", headers=api2.key("clerk"),
                         files={"video": ("capture.mp4", video, "video/mp4")}, data={"nonce": created["nonce"]})
    assert r.status_code == 200 and r.json()["liveness"]["decision"] == "not_live"
    assert "wrong_order" in r.json()["liveness"]["reasons"]
    other = api2.register(still_from_clip(clip, 1.0), created["id"], ids.ric(61))
    assert other.json()["decision"] == "rejected" and "liveness_failed" in other.json()["reasons"]
