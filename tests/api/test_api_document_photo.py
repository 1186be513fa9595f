"""POST /v1/document-photo-checks: the face box, landmarks and quality of a document photo, nothing stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from test_api_errors import counts, problem

from facekyc.vision.image import encode_jpeg

URL = "/v1/document-photo-checks"
PHOTO = "Colin_Powell/Colin_Powell_0038.jpg"


@pytest.fixture(scope="module")
def dep(deploy: Callable[..., Any]) -> Any:
    return deploy(max_upload_bytes=200_000)


@pytest.fixture(scope="module")
def api(dep: Any, api_factory: Any) -> Any:
    return api_factory(TestClient(dep.app, raise_server_exceptions=False), dep.admin_token)


def check(api: Any, data: bytes, *, role: str = "clerk", content_type: str = "image/jpeg") -> Any:
    return api.client.post(URL, headers=api.key(role), files={"photo": ("p.jpg", data, content_type)})


def test_a_real_face_is_found_inside_the_image_and_nothing_is_written(dep: Any, api: Any, lfw_images: Path) -> None:
    path = lfw_images / PHOTO
    if not path.is_file():
        pytest.skip(f"{path} is missing from the test data")
    api.key("clerk")  # the key is made before counting: making it writes an audit entry
    before = counts(dep)
    r = check(api, path.read_bytes())
    assert r.status_code == 200, r.text
    body = r.json()
    width, height = body["image_size"]
    assert (width, height) == (250, 250)  # LFW
    x, y, w, h = body["face"]["box"]
    assert x >= 0 and y >= 0 and w > 20 and h > 20 and x + w <= width and y + h <= height
    assert len(body["face"]["landmarks"]) == 5
    for px, py in body["face"]["landmarks"]:
        assert x <= px <= x + w and y <= py <= y + h, (px, py, body["face"]["box"])
    assert 0 < body["face"]["confidence"] <= 1 and body["faces_found"] >= 1
    assert body["quality"]["purpose"] == "document" and "face_size" in body["quality"]["components"]
    assert body["usable"] is body["quality"]["passed"]
    assert counts(dep) == before  # no registration, no subscriber, not even an audit entry


def test_no_face_unreadable_and_upload_errors_are_problems(dep: Any, api: Any) -> None:
    api.key("clerk")
    before = counts(dep)
    blank = encode_jpeg(np.full((240, 240, 3), 120, np.uint8))
    noise = encode_jpeg(np.random.default_rng(7).integers(0, 256, (240, 240, 3), dtype=np.uint8))
    for image in (blank, noise):
        body = problem(check(api, image), 422, "no_face")
        assert body["field"] == "photo"
    body = problem(check(api, b"\xff\xd8\xffnot really a jpeg"), 422, "image_unreadable")
    assert body["field"] == "photo"
    problem(check(api, b"hello", content_type="text/plain"), 415, "unsupported_media_type")
    problem(check(api, b"\xff" * 250_000), 413, "upload_too_large")
    problem(api.client.post(URL, headers=api.key("clerk"), json={"photo": "x"}), 415, "unsupported_media_type")
    body = problem(api.client.post(URL, headers=api.key("clerk"), files={"other": ("p.jpg", blank, "image/jpeg")}),
                   422, "validation_error")
    assert body["fields"] == ["photo"]
    assert counts(dep) == before


def test_only_clerks_may_check_a_photo(api: Any) -> None:
    blank = encode_jpeg(np.full((64, 64, 3), 120, np.uint8))
    problem(api.client.post(URL, files={"photo": ("p.jpg", blank, "image/jpeg")}), 401, "unauthorized")
    for role in ("reviewer", "auditor", "admin"):
        problem(check(api, blank, role=role), 403, "wrong_role")


def test_the_operation_is_documented(api: Any) -> None:
    spec = api.client.get("/openapi.json").json()
    op = spec["paths"][URL]["post"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/DocumentPhotoCheckView")
    assert {"401", "403", "413", "415", "422", "429", "500"} <= set(op["responses"])
    assert "multipart/form-data" in op["requestBody"]["content"]
