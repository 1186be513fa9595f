"""Storage fixtures: an empty database per test, SQLite file or a fresh PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from facekyc.storage import testing as pg
from facekyc.storage.db import make_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
        yield engine
        engine.dispose()
        return
    url = pg.postgres_url()
    reason = pg.postgres_unavailable(url)
    if reason:
        pytest.skip(reason)
    schema = pg.create_schema(url)
    engine = make_engine(url, schema=schema)
    yield engine
    engine.dispose()
    pg.drop_schema(url, schema)
