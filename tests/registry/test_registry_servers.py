"""Two real `facekyc serve` processes on one PostgreSQL: the same new face registered under two identities
at the same moment, one through each, never gets two approvals; a face enrolled through one process is
found by the other. And `serve --workers 2` with the Milvus (Lite) backend starts and dedups."""

from __future__ import annotations

import importlib.util
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import live_servers as servers
import pytest
from idnumbers import iccid, ric_number

from facekyc.storage import testing as pg


@pytest.fixture(scope="module")
def clip(test_data: Path) -> Path:
    path = test_data / "liveness-dev" / "real_turns.mp4"
    if not path.is_file():
        pytest.skip(f"{path} is missing from the test data")
    return path


@pytest.fixture
def postgres_schema() -> Any:
    url = pg.postgres_url()
    reason = pg.postgres_unavailable(url)
    if reason:
        pytest.skip(reason)
    schema = pg.create_schema(url)
    yield f"{url}?options=-csearch_path%3D{schema}"
    pg.drop_schema(url, schema)


def test_two_server_processes_on_postgres_never_approve_one_face_twice(postgres_schema: str, clip: Path,
                                                                     tmp_path: Path) -> None:
    env = servers.shared_env(tmp_path / "data", FACEKYC_DATABASE_URL=postgres_schema)
    a = servers.start(env, tmp_path / "a.log")
    b = None
    try:
        b = servers.start(env, tmp_path / "b.log")
        token = a.token()
        assert token is not None and b.token() is None  # one database: one first start
        client = servers.Client(token)
        client.setup(a.base_url, numbers=5)
        video, doc = clip.read_bytes(), servers.still_from_clip(clip, 1.0)
        with ThreadPoolExecutor(2) as pool:  # one live capture through each process
            cap_a, cap_b = pool.map(lambda base: client.capture(base, video), [a.base_url, b.base_url])
            # the same face, two identities, two processes, the same moment
            futures = [pool.submit(client.register, a.base_url, cap_a, doc, ric_number(1), iccid(1)),
                       pool.submit(client.register, b.base_url, cap_b, doc, ric_number(2), iccid(2))]
            first = [f.result() for f in futures]
        assert sorted(str(r["decision"]) for r in first) == ["approved", "review"], first
        review = next(r for r in first if r["decision"] == "review")
        assert "duplicate_face" in review["reasons"]  # type: ignore[operator]

        # enrolled through one process, found through the other
        approved_via = a if first[0]["decision"] == "approved" else b
        other = b if approved_via is a else a
        cap = client.capture(other.base_url, video)
        third = client.register(other.base_url, cap, doc, ric_number(3), iccid(3))
        assert third["decision"] == "review" and "duplicate_face" in third["reasons"], third  # type: ignore[operator]
    finally:
        if b is not None:
            b.stop()
        a.stop()


def test_serve_two_workers_with_milvus_lite_starts_and_dedups(clip: Path, tmp_path: Path) -> None:
    for module in ("pymilvus", "milvus_lite"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install 'facekyc[milvus]')")
    env = servers.shared_env(tmp_path / "data", FACEKYC_VECTOR_BACKEND="milvus",
                             FACEKYC_MILVUS_URI=str(tmp_path / "faces.db"))
    served = servers.start(env, tmp_path / "serve.log", "--workers", "2", timeout=180)
    try:
        deadline = time.monotonic() + 180
        while served.log().count("Application startup complete") < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        log = served.log()
        assert "served to the workers" in log and log.count("Application startup complete") == 2, log
        token = served.token()
        assert token is not None
        client = servers.Client(token)
        client.setup(served.base_url, numbers=3)
        video, doc = clip.read_bytes(), servers.still_from_clip(clip, 1.0)
        with ThreadPoolExecutor(2) as pool:
            caps = list(pool.map(lambda _: client.capture(served.base_url, video), range(2)))
        first = client.register(served.base_url, caps[0], doc, ric_number(1), iccid(1))
        assert first["decision"] == "approved", first
        second = client.register(served.base_url, caps[1], doc, ric_number(2), iccid(2))
        assert second["decision"] == "review" and "duplicate_face" in second["reasons"], second  # type: ignore[operator]
    finally:
        served.stop()
