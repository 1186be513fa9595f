"""Liveness fixtures: development clips decoded once per session, cut to the prompted window."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from facekyc.vision.liveness.types import CapturedFrame
from facekyc.vision.liveness.video import VideoLimits, decode_file

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make liveness_synthetic importable

_CACHE: dict[str, list[CapturedFrame]] = {}


@pytest.fixture(scope="session")
def liveness_dir(test_data: Path) -> Path:
    path = test_data / "liveness-dev"
    if not (path / "labels.json").is_file():
        pytest.skip(f"liveness development clips not found under {path}")
    return path


@pytest.fixture(scope="session")
def liveness_labels(liveness_dir: Path) -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, object]] = json.loads((liveness_dir / "labels.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def clip(liveness_dir: Path):  # type: ignore[no-untyped-def]
    """clip(name, start_s, end_s) -> frames at 10 fps with timestamps rebased to the window start,
    as a capture of only the prompted window would contain."""

    def cut(name: str, start_s: float = 0.0, end_s: float = 1e9) -> list[CapturedFrame]:
        if name not in _CACHE:
            _CACHE[name] = decode_file(str(liveness_dir / name), VideoLimits(max_frames=1000))
        frames = [f for f in _CACHE[name] if start_s * 1000 <= f.t_ms <= end_s * 1000]
        return [CapturedFrame(bgr=f.bgr, t_ms=f.t_ms - frames[0].t_ms) for f in frames]

    return cut
