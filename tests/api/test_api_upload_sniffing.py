"""Uploads labelled application/octet-stream (curl's label for `-F f=@x.webm`) are typed by their first bytes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from facekyc.api.sniff import sniff

URL = "/v1/document-photo-checks"


def _video(tmp_path: Path, suffix: str, fourcc: str) -> bytes:
    path = tmp_path / f"clip{suffix}"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10.0, (64, 48))
    if not writer.isOpened():
        pytest.skip(f"OpenCV cannot write {suffix} here")
    for k in range(3):
        writer.write(np.full((48, 64, 3), 40 * k, np.uint8))
    writer.release()
    return path.read_bytes()


def test_sniff_names_the_containers_we_accept(tmp_path: Path) -> None:
    image = np.random.default_rng(3).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    for ext, kind in ((".jpg", "image/jpeg"), (".png", "image/png"), (".webp", "image/webp"), (".jp2", "image/jp2")):
        ok, data = cv2.imencode(ext, image)
        assert ok and sniff(data.tobytes()[:16]) == kind, ext
    assert sniff(_video(tmp_path, ".webm", "VP80")[:16]) == "video/webm"
    assert sniff(_video(tmp_path, ".mp4", "mp4v")[:16]) == "video/mp4"
    for other in (b"", b"GIF89a\x01\x00", b"hello world, not media", b"%PDF-1.7\n"):
        assert sniff(other) is None


@pytest.fixture(scope="module")
def api(deploy: Callable[..., Any], api_factory: Any) -> Any:
    dep = deploy()
    return api_factory(TestClient(dep.app, raise_server_exceptions=False), dep.admin_token)


def test_octet_stream_photo_is_read_when_its_bytes_are_an_image(api: Any, lfw_images: Path) -> None:
    photo = (lfw_images / "Colin_Powell" / "Colin_Powell_0038.jpg").read_bytes()
    clerk = api.key("clerk")
    r = api.client.post(URL, headers=clerk, files={"photo": ("card", photo, "application/octet-stream")})
    assert r.status_code == 200, r.text
    assert r.json()["faces_found"] >= 1
    r = api.client.post(URL, headers=clerk, files={"photo": ("card", b"%PDF-1.7\n" * 40, "application/octet-stream")})
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    assert r.headers["content-type"].startswith("application/problem+json")
    r = api.client.post(URL, headers=clerk, files={"photo": ("card.gif", photo, "image/gif")})
    assert r.status_code == 415, "a declared type is kept as sent, whatever the bytes"
