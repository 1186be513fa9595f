"""Registry fixtures: each test gets a fresh database (SQLite file or a new PostgreSQL schema)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facekyc.config import Settings
from facekyc.registry.service import Registry
from facekyc.storage import testing as pg
from facekyc.vision.detect import Face
from facekyc.vision.engine import FaceAnalysis
from facekyc.vision.liveness.types import LivenessResult
from facekyc.vision.quality import QualityReport

RegistryFactory = Callable[..., Registry]


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        reason = pg.postgres_unavailable(pg.postgres_url())
        if reason:
            pytest.skip(reason)
    return str(request.param)


@pytest.fixture
def make_registry(backend: str, tmp_path: Path, engine: Any) -> Iterator[RegistryFactory]:
    """Open a Registry on a fresh database; settings overrides and a liveness checker may be given."""
    opened: list[tuple[Registry, str | None]] = []

    def factory(liveness: Any = None, **overrides: Any) -> Registry:
        data_dir = tmp_path / f"data{len(opened)}"
        schema = None
        if backend == "postgres":
            schema = pg.create_schema(pg.postgres_url())
            overrides.setdefault("database_url", pg.postgres_url())
        settings = Settings(data_dir=data_dir, **overrides)
        registry = Registry.open(settings, engine, liveness=liveness, schema=schema)
        opened.append((registry, schema))
        return registry

    yield factory
    for registry, schema in opened:
        registry.close()
        if schema:
            pg.drop_schema(pg.postgres_url(), schema)


def synthetic_face(rng: np.random.Generator, models: list[str], dim: int = 128) -> FaceAnalysis:
    """A face analysis with random unit embeddings: distinct people, no image work (fast)."""
    embeddings = {}
    for name in models:
        vec = rng.normal(size=dim).astype(np.float32)
        embeddings[name] = vec / np.linalg.norm(vec)
    face = Face(box=(10.0, 10.0, 100.0, 100.0), landmarks=np.zeros((5, 2), np.float32), score=0.99)
    return FaceAnalysis(face=face, faces_found=1, quality=QualityReport("live", []), embeddings=embeddings,
                        image_size=(120, 120))


def live_result(face: FaceAnalysis | None) -> LivenessResult:
    return LivenessResult(live=face is not None, reasons=[], scores={"test": 1.0}, steps=[],
                          best_frame_index=0 if face is not None else None, best=face)


@pytest.fixture
def fake_face() -> Callable[..., FaceAnalysis]:
    return synthetic_face


@pytest.fixture
def fake_live() -> Callable[[FaceAnalysis | None], LivenessResult]:
    return live_result


def current_schema(registry: Registry) -> str | None:
    """The PostgreSQL schema a registry works in (None on SQLite): to open a second one on the same data."""
    if registry.db.dialect.name != "postgresql":
        return None
    from sqlalchemy import text

    with registry.db.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())
