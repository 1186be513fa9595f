"""Every face-index backend: add, replace, remove, exact search order and scores, rebuild, ids."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from facekyc.crypto.transform import KeyedRotation
from facekyc.storage.vector_index import VectorIndex, open_index


def unit(rng: np.random.Generator, dim: int = 16) -> np.ndarray:
    v = rng.normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def milvus_lite_missing() -> str | None:
    for module in ("pymilvus", "milvus_lite"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'facekyc[milvus]')"
    return None


@pytest.fixture(params=["flat", "compact-int8", "compact-fp16", "milvus"])
def make_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], VectorIndex]]:
    made: list[VectorIndex] = []

    def factory() -> VectorIndex:
        name = str(request.param)
        if name == "milvus":
            reason = milvus_lite_missing()
            if reason:
                pytest.skip(reason)
            index = open_index("milvus", milvus_uri=str(tmp_path / f"m{len(made)}.db"), collection="faces_v1",
                               transform=KeyedRotation(b"k" * 32, 1))
        elif name.startswith("compact"):
            index = open_index("compact", codec=name.split("-")[1], spill_dir=tmp_path)
        else:
            index = open_index(name)
        made.append(index)
        return index

    yield factory
    for index in made:
        client = getattr(index, "client", None)
        if client is not None:
            client.close()


def test_search_is_exact_and_ordered(make_index: Callable[[], VectorIndex]) -> None:
    rng = np.random.default_rng(0)
    index = make_index()
    assert index.search(unit(rng), 5) == []
    vectors = {i: unit(rng) for i in range(1, 400)}
    index.rebuild(vectors.items())
    assert len(index) == 399 and index.ids() == set(vectors)
    query = (vectors[42] + 0.1 * unit(rng)).astype(np.float32)
    hits = index.search(query, 5)
    expected = sorted(vectors, key=lambda i: -float(np.dot(vectors[i], query)))[:5]
    assert [h.subscriber_id for h in hits] == expected
    assert hits[0].inner_product == pytest.approx(float(np.dot(vectors[42], query)), rel=1e-5)


def test_add_replaces_and_remove_forgets(make_index: Callable[[], VectorIndex]) -> None:
    rng = np.random.default_rng(1)
    index = make_index()
    a, b = unit(rng), unit(rng)
    index.add(7, a)
    index.add(7, b)
    assert len(index) == 1 and 7 in index and 8 not in index
    assert index.search(b, 1)[0].inner_product == pytest.approx(1.0, rel=1e-5)
    index.remove(7)
    index.remove(7)
    assert len(index) == 0 and index.search(b, 3) == []
    with pytest.raises(ValueError, match="3 values"):
        index.add(8, np.zeros(3, np.float32))  # the dimension was fixed by the first template


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown vector backend"):
        open_index("annoy")
    with pytest.raises(ValueError, match="keyed transform"):
        open_index("milvus", milvus_uri="/tmp/x.db")
