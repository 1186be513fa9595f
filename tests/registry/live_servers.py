"""Real `facekyc serve` processes for the multi-process tests: start on a free port, read the first-start
admin token, stop. Test mode with the development clip's challenge fixed, so a real capture passes."""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import httpx

from facekyc.vision.image import encode_jpeg

CLIP_CHALLENGE = "turn_left,turn_right"  # what real_turns.mp4 performs (see tests/api/test_api_real_liveness.py)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def facekyc_command() -> list[str]:
    script = Path(sys.executable).with_name("facekyc")
    return [str(script)] if script.is_file() else [sys.executable, "-c", "from facekyc.cli import app; app()"]


def shared_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """One deployment's environment: same master key and database for every process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEKYC_") or k == "FACEKYC_TEST_DATA"}
    env.update({"FACEKYC_DATA_DIR": str(data_dir), "FACEKYC_TEST_MODE": "true",
                "FACEKYC_TEST_FIXED_CHALLENGE": CLIP_CHALLENGE, "FACEKYC_RATE_LIMIT_PER_MINUTE": "6000",
                "FACEKYC_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(), "NO_COLOR": "1",
                "COLUMNS": "200"})
    env.update(extra)
    return env


@dataclass
class Served:
    base_url: str
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def token(self) -> str | None:
        found = re.search(r"\bfk_[A-Za-z0-9_-]{20,}", self.log())
        return found.group(0) if found else None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start(env: dict[str, str], log_path: Path, *args: str, timeout: float = 120) -> Served:
    """`facekyc serve` in a subprocess; returns once /readyz answers 200 (or fails with the log)."""
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen([*facekyc_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
    served = Served(f"http://127.0.0.1:{port}", log_path, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"facekyc serve exited ({process.returncode}):\n{served.log()}")
        try:
            if httpx.get(f"{served.base_url}/readyz", timeout=2).status_code == 200:
                return served
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    served.stop()
    raise RuntimeError(f"facekyc serve did not come up:\n{served.log()}")


def still_from_clip(clip: Path, second: float) -> bytes:
    """One frame of the clip as a JPEG: the 'document photo' of the person in the video."""
    capture = cv2.VideoCapture(str(clip))
    capture.set(cv2.CAP_PROP_POS_MSEC, second * 1000)
    ok, frame = capture.read()
    capture.release()
    assert ok
    return encode_jpeg(frame)


class Client:
    """The few calls a point of sale makes, against any of the processes."""

    def __init__(self, admin_token: str) -> None:
        self.admin = {"Authorization": f"Bearer {admin_token}"}
        self.clerk: dict[str, str] = {}

    def setup(self, base: str, numbers: int) -> None:
        r = httpx.post(f"{base}/v1/operators", json={"id": "op", "name": "Op", "country": "CN"}, headers=self.admin,
                       timeout=30)
        assert r.status_code == 201, r.text
        r = httpx.post(f"{base}/v1/api-keys", json={"name": "clerk", "role": "clerk", "operator_id": "op"},
                       headers=self.admin, timeout=30)
        assert r.status_code == 201, r.text
        self.clerk = {"Authorization": f"Bearer {r.json()['token']}"}
        r = httpx.post(f"{base}/v1/operators/op/numbers", json={"msisdns": [f"1390000{i:04d}" for i in range(numbers)]},
                       headers=self.admin, timeout=30)
        assert r.status_code == 201, r.text

    def capture(self, base: str, video: bytes) -> str:
        created = httpx.post(f"{base}/v1/capture-sessions", headers=self.clerk, timeout=30).json()
        r = httpx.post(f"{base}/v1/capture-sessions/{created['id']}/frames", headers=self.clerk, timeout=300,
                       files={"video": ("capture.mp4", video, "video/mp4")}, data={"nonce": created["nonce"]})
        assert r.status_code == 200 and r.json()["liveness"]["decision"] == "live", r.text
        return str(created["id"])

    def register(self, base: str, capture_id: str, doc_photo: bytes, document: str, iccid: str) -> dict[str, object]:
        data = {"operator_id": "op", "doc_type": "cn_ric", "document": document, "capture_session_id": capture_id,
                "iccid": iccid, "consent_version": "v1", "consent_at": "2026-01-05T10:00:00Z"}
        r = httpx.post(f"{base}/v1/registrations", headers=self.clerk, data=data, timeout=120,
                       files={"document_photo": ("doc.jpg", doc_photo, "image/jpeg")})
        assert r.status_code == 201, r.text
        body: dict[str, object] = r.json()
        return body
