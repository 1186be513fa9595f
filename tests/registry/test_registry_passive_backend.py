"""The server builds its passive PAD backend once, at start-up, from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from facekyc.config import Settings
from facekyc.errors import ModelUnavailable
from facekyc.registry.liveness import default_checker


def test_default_backend_is_minifasnet_shipped_in_the_package() -> None:
    assert Settings().passive_backend == "minifasnet"
    assert callable(default_checker(Settings()))
    assert callable(default_checker(Settings(passive_backend="cues")))


def test_override_folder_without_the_models_fails_at_start_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as info:
        default_checker(Settings(passive_backend="minifasnet", minifasnet_dir=tmp_path))
    assert info.value.status == 503 and "FACEKYC_MINIFASNET_DIR" in info.value.message


def test_unknown_backend_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError):
        Settings(passive_backend="magic")
