"""The README's shell examples, run as written against a real `facekyc serve` started by the test.

Every ```bash block in README.md is marked `<!-- readme-test: NAME -->` (run here) or
`<!-- readme-manual: why -->` (starts a long-running server or the whole suite). The capture is the real
clip from FACEKYC_TEST_DATA, written as `cap.webm`: curl labels it application/octet-stream and the server
types it by its first bytes (it is an MP4), as it does for a user's WebM. A clip can only perform its own
motions, so this server fixes the challenge in test mode; a real user records the challenge they are shown.
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
from pathlib import Path

import httpx
import pytest
from clips import still_from_clip

README = Path(__file__).resolve().parents[1] / "README.md"
MARKED_BLOCK = re.compile(r"<!-- readme-(test|manual): ([^>]*?) -->\n```bash\n(.*?)```", re.S)
START_TIMEOUT_S = 120


def readme_blocks() -> dict[str, str]:
    """The blocks marked readme-test, by name."""
    return {name.strip(): body for kind, name, body in MARKED_BLOCK.findall(README.read_text(encoding="utf-8"))
            if kind == "test"}


def test_every_bash_block_is_run_here_or_says_why_not() -> None:
    text = README.read_text(encoding="utf-8")
    unmarked = [m.start() for m in re.finditer(r"```bash\n", text)
                if not re.search(r"<!-- readme-(test|manual): [^>]+ -->\n$", text[:m.start()])]
    lines = [text.count("\n", 0, pos) + 1 for pos in unmarked]
    assert not lines, f"README.md bash block(s) at line(s) {lines} need <!-- readme-test: NAME --> or " \
                      "<!-- readme-manual: why -->"
    assert {"quickstart", "walkthrough"} <= set(readme_blocks())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    """The caller's environment without FACEKYC_* settings, with this venv's `facekyc` first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACEKYC_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "200"
    return {**env, **extra}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """`facekyc serve` in a fresh folder (default ./facekyc-data): its URL, admin key and folder."""
    for tool in ("curl", "jq", "bash"):
        if shutil.which(tool) is None:
            pytest.skip(f"the README examples need {tool}")
    port = _free_port()
    log = tmp_path / "serve.log"
    env = _env(FACEKYC_TEST_MODE="true", FACEKYC_TEST_FIXED_CHALLENGE="turn_left,turn_right")
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "facekyc.cli", "serve", "--port", str(port)], cwd=tmp_path,
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.3)
        token = re.search(r"\b(fk_\S+)", log.read_text(errors="replace"))
        assert token, log.read_text(errors="replace")
        yield url, token.group(1), tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _run_block(name: str, cwd: Path, **env: str) -> str:
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_blocks()[name]], cwd=cwd, env=_env(**env),
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"README block {name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_readme_quick_start_and_curl_walkthrough_run_as_written(test_data: Path,
                                                                 server: tuple[str, str, Path]) -> None:
    url, admin, folder = server
    clip = test_data / "liveness-dev" / "real_turns.mp4"
    if not clip.is_file():
        pytest.skip(f"liveness clip not found: {clip}")

    out = _run_block("quickstart", folder)  # the CLI writes to the database the running server uses
    assert "operator mymobile added" in out and "clerk" in out and "fk_" in out
    seen = httpx.get(f"{url}/v1/operators/mymobile", headers={"Authorization": f"Bearer {admin}"}).json()
    assert seen["numbers"]["free"] == 3 and seen["country"] == "CN"

    (folder / "cap.webm").write_bytes(clip.read_bytes())
    (folder / "card.jpg").write_bytes(still_from_clip(clip, 1.0))
    out = _run_block("walkthrough", folder, API=url, ADMIN=admin)
    lines = out.strip().splitlines()
    assert '"challenge":["turn_left","turn_right"]' in out
    assert any(line.startswith('{"decision":"live","reasons":[]') for line in lines), out
    assert lines[-1] == '{"decision":"approved","msisdn":"+8613900000001","reasons":[]}', out
