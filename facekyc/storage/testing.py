"""Helpers for running the test suite against a real PostgreSQL: one throw-away schema per run."""

from __future__ import annotations

import os
import secrets

from sqlalchemy import create_engine, text

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("FACEKYC_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)


def postgres_unavailable(url: str) -> str | None:
    """None when the server answers, else the reason (for pytest.skip)."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL at {url.split('@')[-1]} is not reachable: {type(exc).__name__}"
    return None


def create_schema(url: str) -> str:
    """A fresh, randomly named schema (so concurrent runs never collide)."""
    name = "fk_test_" + secrets.token_hex(6)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    engine.dispose()
    return name


def drop_schema(url: str, name: str) -> None:
    if not name.startswith("fk_test_"):
        raise ValueError("refusing to drop a schema not created by create_schema")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    engine.dispose()
