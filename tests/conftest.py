"""Shared fixtures: the development data (FACEKYC_TEST_DATA) and one face engine per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _data_root() -> Path | None:
    """FACEKYC_TEST_DATA made absolute once (against the directory pytest runs in), so a relative value
    such as the README's ../shared/data means the same thing in every path a test writes into a file."""
    value = os.environ.get("FACEKYC_TEST_DATA")
    return Path(value).expanduser().resolve() if value else None


@pytest.fixture(scope="session")
def test_data() -> Path:
    """../shared/data, or skip: the real faces are never in the repository."""
    root = _data_root()
    if root is None:
        pytest.skip("FACEKYC_TEST_DATA is not set (point it at ../shared/data to run tests on real faces)")
    if not root.is_dir():
        pytest.skip(f"FACEKYC_TEST_DATA={root} does not exist")
    return root


@pytest.fixture(scope="session")
def lfw_images(test_data: Path) -> Path:
    path = test_data / "lfw-view1" / "images"
    if not path.is_dir():
        pytest.skip(f"LFW View 1 images not found under {path}")
    return path


@pytest.fixture(scope="session")
def engine():  # type: ignore[no-untyped-def]
    """One FaceEngine for the whole session: loading the models takes about a second."""
    from facekyc.vision.engine import FaceEngine

    return FaceEngine()
