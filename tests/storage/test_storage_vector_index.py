"""The exact inner-product index: add, replace, remove, search order, rebuild."""

from __future__ import annotations

import numpy as np
import pytest

from facekyc.storage.vector_index import FlatIPIndex, VectorIndex


def unit(rng: np.random.Generator, dim: int = 16) -> np.ndarray:
    v = rng.normal(size=dim).astype(np.float32)
    return v / np.linalg.norm(v)


def test_search_is_exact_and_ordered() -> None:
    rng = np.random.default_rng(0)
    index: VectorIndex = FlatIPIndex()
    assert index.search(unit(rng), 5) == []
    vectors = {i: unit(rng) for i in range(1, 200)}
    index.rebuild(vectors.items())
    query = (vectors[42] + 0.1 * unit(rng)).astype(np.float32)
    hits = index.search(query, 5)
    expected = sorted(vectors, key=lambda i: -float(np.dot(vectors[i], query)))[:5]
    assert [h.subscriber_id for h in hits] == expected
    assert hits[0].inner_product == pytest.approx(float(np.dot(vectors[42], query)), rel=1e-5)


def test_add_replaces_and_remove_forgets() -> None:
    rng = np.random.default_rng(1)
    index = FlatIPIndex()
    a, b = unit(rng), unit(rng)
    index.add(7, a)
    index.add(7, b)
    assert len(index) == 1 and 7 in index
    assert index.search(b, 1)[0].inner_product == pytest.approx(1.0, rel=1e-5)
    index.remove(7)
    index.remove(7)
    assert len(index) == 0 and index.search(b, 3) == []
    with pytest.raises(ValueError, match="3 values"):
        index.add(8, np.zeros(3, np.float32))  # the dimension was fixed by the first template
