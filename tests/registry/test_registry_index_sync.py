"""The Milvus (Lite) backend under the registry: dedup through it, `index sync` repairs and reports drift,
`keys rotate-transform` re-projects under a new key version and other processes follow."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import current_schema
from idnumbers import iccid, ric_number

from facekyc.documents import parse_document
from facekyc.registry.registration import RegistrationRequest
from facekyc.registry.scope import Scope
from facekyc.registry.service import Registry
from facekyc.registry.transform_rotation import rotate
from facekyc.storage.db import transaction
from facekyc.storage.models import Operator, PhoneNumber
from facekyc.vision.liveness.types import CapturedFrame


def prepared(make_registry: Callable[..., Any], fake_live: Any, **overrides: Any) -> Registry:
    """A registry with an operator, nine numbers and a liveness hook keyed by the frame time."""
    faces: dict[int, Any] = {}
    registry: Registry = make_registry(liveness=lambda _e, frames, _c, _n: fake_live(faces[int(frames[0].t_ms)]),
                                       **overrides)
    registry.test_faces = faces  # type: ignore[attr-defined]
    with transaction(registry.sessions) as session:
        session.add(Operator(id="op", name="Op", country="CN", max_numbers_per_identity=None))
        session.flush()
        session.add_all([PhoneNumber(operator_id="op", msisdn=f"+8613900000{i:03d}", status="free") for i in range(9)])
    return registry


@pytest.fixture
def milvus_registry(make_registry: Callable[..., Any], fake_live: Any, tmp_path: Path) -> Any:
    for module in ("pymilvus", "milvus_lite"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install 'facekyc[milvus]')")
    return prepared(make_registry, fake_live, vector_backend="milvus", milvus_uri=str(tmp_path / "faces.db"))


def register(registry: Registry, face: Any, person: int) -> str:
    registry.test_faces[person] = face  # type: ignore[attr-defined]
    new = registry.captures.create("test", "op")
    registry.captures.upload(new.session.id, new.nonce, [CapturedFrame(np.zeros((8, 8, 3), np.uint8), float(person))],
                             Scope("op"))
    req = RegistrationRequest(operator_id="op", document=parse_document("cn_ric", ric_number(person)),
                              document_face=face, capture_session_id=new.session.id, iccid=iccid(person),
                              consent_version="v1", consent_at=datetime.now(UTC))
    return registry.registrations.register(req, "test", Scope("op")).registration.decision


def test_milvus_dedup_sync_and_transform_rotation(milvus_registry: Registry, fake_face: Any) -> None:
    registry = milvus_registry
    rng = np.random.default_rng(5)
    faces = [fake_face(rng, registry.scorer.model_names) for _ in range(3)]
    assert [register(registry, f, i + 1) for i, f in enumerate(faces)] == ["approved"] * 3
    assert register(registry, faces[0], 10) == "review"  # found through Milvus
    assert len(registry.index) == 3 and registry.feed.sync().drift == 0

    held = sorted(registry.index.ids())
    registry.index.remove(held[0])
    registry.index.add(999_999, registry.scorer.template(faces[1].embeddings))
    report = registry.feed.sync()
    assert (report.missing, report.extra, report.enrolled) == (1, 1, 3)
    assert sorted(registry.index.ids()) == held and registry.feed.sync().drift == 0

    other = Registry.open(registry.settings, registry.engine, schema=current_schema(registry))  # a second process
    old_collection = registry.index.collection  # type: ignore[attr-defined]
    assert rotate(registry) == (1, 2, 3)
    assert registry.index.collection.endswith("_v2") and not registry.index.client.has_collection(  # type: ignore[attr-defined]
        old_collection)
    assert register(registry, faces[2], 11) == "review"  # the re-projected vectors still match
    other.feed.catch_up()
    assert other.index.collection == registry.index.collection and len(other.index) == 3  # type: ignore[attr-defined]
    other.close()


@pytest.mark.parametrize("codec", ["int8", "fp16"])
def test_compact_backend_chosen_by_settings_dedups(make_registry: Callable[..., Any], fake_live: Any,
                                                   fake_face: Any, codec: str) -> None:
    registry = prepared(make_registry, fake_live, vector_backend="compact", compact_codec=codec)
    assert type(registry.index).__name__ == "CompactIndex" and registry.index.codec == codec  # type: ignore[attr-defined]
    face = fake_face(np.random.default_rng(9), registry.scorer.model_names)
    assert register(registry, face, 1) == "approved"
    assert register(registry, face, 2) == "review"
    assert registry.feed.sync().drift == 0
