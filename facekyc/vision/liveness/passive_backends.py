"""The one place a passive presentation-attack backend is chosen by name (FACEKYC_PASSIVE_BACKEND)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from facekyc.errors import ModelUnavailable
from facekyc.vision.liveness.passive_types import PassiveDetector

if TYPE_CHECKING:
    from facekyc.config import Settings

DEFAULT_BACKEND = "minifasnet"


def _minifasnet(models_dir: Path | None) -> PassiveDetector:
    from facekyc.vision.liveness.minifasnet import MiniFasNetScorer

    return MiniFasNetScorer(models_dir)  # None: the ONNX files shipped in the package


def _cues(models_dir: Path | None) -> PassiveDetector:
    from facekyc.vision.liveness.passive import CueScorer

    return CueScorer()


BACKENDS: dict[str, Callable[[Path | None], PassiveDetector]] = {"minifasnet": _minifasnet, "cues": _cues}


def build_passive(name: str = DEFAULT_BACKEND, models_dir: Path | None = None) -> PassiveDetector:
    """The passive detector called `name`; `models_dir` overrides the shipped model files where it applies."""
    try:
        build = BACKENDS[name]
    except KeyError:
        raise ModelUnavailable(f"unknown passive backend {name!r}; known: {', '.join(BACKENDS)}") from None
    return build(models_dir)


def passive_from_settings(settings: Settings) -> PassiveDetector:
    """The configured passive detector; build it once per process, at start-up, so a broken model file
    fails there with ModelUnavailable rather than on the first customer."""
    return build_passive(settings.passive_backend, settings.minifasnet_dir)
