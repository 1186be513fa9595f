"""The keyed rotation: inner products kept exactly, vectors unrecognisable, different per key and version."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from facekyc.crypto.transform import KeyedRotation


def test_rotation_keeps_inner_products_and_hides_the_vectors() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 256)).astype(np.float32)
    rot = KeyedRotation(b"\x01" * 32, 1)
    q = rot.matrix(256)
    assert np.allclose(q @ q.T, np.eye(256), atol=1e-5)
    ra, rb = rot(a), rot(b)
    assert float(ra @ rb) == pytest.approx(float(a @ b), rel=1e-4, abs=1e-4)
    assert abs(float(ra @ a)) / float(a @ a) < 0.3  # the stored vector is not the template
    assert np.allclose(rot(np.stack([a, b])), np.stack([ra, rb]), atol=1e-6)
    assert np.array_equal(KeyedRotation(b"\x01" * 32, 1)(a), ra)  # every process derives the same map
    for other in (KeyedRotation(b"\x02" * 32, 1), KeyedRotation(b"\x01" * 32, 2)):
        assert abs(float(other(a) @ ra)) / float(a @ a) < 0.3
    with pytest.raises(ValueError):
        KeyedRotation(b"\x01" * 32, 0)


def test_milvus_stores_only_rotated_vectors(tmp_path: Path) -> None:
    if importlib.util.find_spec("milvus_lite") is None:
        pytest.skip("milvus-lite is not installed (pip install 'facekyc[milvus]')")
    from facekyc.storage.vector_index import open_index

    rng = np.random.default_rng(4)
    template = rng.normal(size=64).astype(np.float32)
    index = open_index("milvus", milvus_uri=str(tmp_path / "m.db"), collection="faces_v1",
                       transform=KeyedRotation(b"\x07" * 32, 1))
    index.add(5, template)
    stored = np.asarray(index.client.get("faces_v1", ids=[5], output_fields=["v"])[0]["v"], np.float32)  # type: ignore[attr-defined]
    assert abs(float(stored @ template)) / float(template @ template) < 0.3
    assert index.search(template, 1)[0].inner_product == pytest.approx(float(template @ template), rel=1e-4)
    index.client.close()  # type: ignore[attr-defined]
