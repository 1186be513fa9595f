"""The server builds its passive PAD backend once, at start-up, from the settings."""

from __future__ import annotations

import pytest

from facekyc.config import Settings
from facekyc.errors import ModelUnavailable
from facekyc.registry.liveness import default_checker


def test_default_backend_is_the_builtin_cue_scorer() -> None:
    assert callable(default_checker(Settings(passive_backend="cues")))


def test_minifasnet_without_weights_fails_at_start_with_a_clear_error(tmp_path: object) -> None:
    with pytest.raises(ModelUnavailable) as info:
        default_checker(Settings(passive_backend="minifasnet", minifasnet_dir=None))
    assert info.value.status == 503 and "FACEKYC_MINIFASNET_DIR" in info.value.message


def test_unknown_backend_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError):
        Settings(passive_backend="magic")
