"""Browser-test fixtures: the real `facekyc serve` in a subprocess (test mode, fixed challenge), the
development clip as Chromium's fake camera, and headless Chromium driven by Playwright.

Everything heavy is made at test time in a temp dir (the .y4m camera file is ~110 MB) and nothing
of it is committed. Each piece skips with its own reason where it is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CLIP = "real_turns.mp4"
# labels.json: head toward image-right at 2-5.5 s, toward image-left at 7-10.5 s. Directions of a
# Challenge are the subject's own (types.Challenge): image-right = the subject's turn_left.
CLIP_CHALLENGE = "turn_left,turn_right"
STEP_MS = 4500  # prompt time per step: 1.5 s lead + 2 x 4.5 s covers the clip's 0.5-11 s
DOC_STILL_AT_S = 1.0  # a frontal frame of the same person, for the "matching" document photo
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chromium_path() -> str | None:
    override = os.environ.get("FACEKYC_CHROMIUM")
    for candidate in ((override,) if override else CHROMIUM_CANDIDATES):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass
class Server:
    """A running `facekyc serve` with the keys and operator the tests use."""

    base_url: str
    admin: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role] if role != 'admin' else self.admin}"}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        pytest.skip("ffmpeg is not installed (Debian package ffmpeg): needed to turn the clip into a fake camera")
    return path


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed (Debian packages chromium and chromium-driver)")
    return path


@pytest.fixture(scope="session")
def playwright_api() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright for Python is not installed (pip install playwright; no browser download needed)")
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def clip(test_data: Path) -> Path:
    path = test_data / "liveness-dev" / CLIP
    if not path.is_file():
        pytest.skip(f"{path} is missing from the test data")
    return path


@dataclass(frozen=True)
class Media:
    camera: Path  # the clip as a .y4m fake camera
    doc_same: Path  # a frontal still of the clip's person
    doc_other: Path  # an LFW face of someone else


@pytest.fixture(scope="session")
def media(clip: Path, ffmpeg: str, lfw_images: Path, tmp_path_factory: pytest.TempPathFactory) -> Media:
    out = tmp_path_factory.mktemp("camera")
    camera = out / "cam.y4m"
    run = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run([*run, "-i", str(clip), "-an", "-pix_fmt", "yuv420p", "-r", "15", str(camera)], check=True,
                   timeout=120)
    doc_same = out / "doc_same.jpg"
    subprocess.run([*run, "-ss", str(DOC_STILL_AT_S), "-i", str(clip), "-frames:v", "1", "-q:v", "2", str(doc_same)],
                   check=True, timeout=60)
    other = lfw_images / "Colin_Powell" / "Colin_Powell_0074.jpg"
    if not other.is_file():
        other = next(iter(sorted(lfw_images.glob("*/*.jpg"))), other)
    if not other.is_file():
        pytest.skip("no LFW image found for the other person's document photo")
    return Media(camera, doc_same, other)


def _facekyc_command() -> list[str]:
    script = Path(sys.executable).with_name("facekyc")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from facekyc.cli import app; app()"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`facekyc serve` on a free port over a fresh SQLite database, in test mode with the clip's
    challenge fixed; admin key from the first-start banner, then clerk/reviewer/auditor keys and an
    operator with a few numbers."""
    data_dir = tmp_path_factory.mktemp("web-data")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEKYC_") or k.startswith("FACEKYC_TEST_DATA")
           or k == "FACEKYC_MODEL_DIR_EXTRA"}
    env.update({"FACEKYC_DATA_DIR": str(data_dir), "FACEKYC_TEST_MODE": "true",
                "FACEKYC_TEST_FIXED_CHALLENGE": CLIP_CHALLENGE, "FACEKYC_CAPTURE_STEP_MS": str(STEP_MS),
                "FACEKYC_RATE_LIMIT_PER_MINUTE": "600", "COLUMNS": "200", "NO_COLOR": "1"})
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([*_facekyc_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    token = None
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"facekyc serve exited ({process.returncode}):\n{log_path.read_text(errors='replace')}")
            found = re.search(r"\bfk_[A-Za-z0-9_-]{20,}", log_path.read_text(errors="replace"))
            token = token or (found.group(0) if found else None)
            if token:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        else:
            pytest.fail(f"facekyc serve did not come up:\n{log_path.read_text(errors='replace')}")
        assert token is not None
        srv = Server(base, token, data_dir, log_path, process)
        with httpx.Client(base_url=base, timeout=30) as client:
            r = client.post("/v1/operators", json={"id": "demo", "name": "Demo Mobile", "country": "CN"},
                            headers=srv.headers("admin"))
            assert r.status_code == 201, r.text
            for role in ("clerk", "reviewer", "auditor"):
                scope = {"operator_id": "demo"} if role == "clerk" else {"global": True}
                r = client.post("/v1/api-keys", json={"name": f"browser test {role}", "role": role, **scope},
                                headers=srv.headers("admin"))
                assert r.status_code == 201, r.text
                srv.tokens[role] = r.json()["token"]
            r = client.post("/v1/operators/demo/numbers", json={"msisdns": [f"1390000{i:04d}" for i in range(1, 6)]},
                            headers=srv.headers("admin"))
            assert r.status_code == 201, r.text
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def browser(playwright_api: Any, chromium: str, media: Media, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Any]:
    """A fresh headless Chromium profile whose camera is the clip (it restarts at frame 0 whenever
    the page opens the camera, and loops)."""
    context = playwright_api.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("profile")), executable_path=chromium, headless=True,
        viewport={"width": 1024, "height": 768},
        args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              f"--use-file-for-fake-video-capture={media.camera}"])
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshot() -> Any:
    """shot(page, name): a screenshot artifact in artifacts/screenshots/ (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def shot(page: Any, name: str, *, full_page: bool = False) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return shot

