"""Master-key rotation re-wraps every data key while the service keeps reading; old keys can then retire."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from stdnum import luhn
from stdnum.cn import ric
from typer.testing import CliRunner

from facekyc.documents import parse_document
from facekyc.registry.keys import key_usage, rotate
from facekyc.registry.registration import RegistrationRequest
from facekyc.registry.scope import Scope
from facekyc.storage.db import transaction
from facekyc.storage.models import Operator, PhoneNumber, Subscriber
from facekyc.vision.liveness.types import CapturedFrame

OP = Scope("op")


def _register(registry: Any, faces: dict[int, Any], i: int, retained: bytes | None = None) -> Any:
    new = registry.captures.create("test", "op")
    registry.captures.upload(new.session.id, new.nonce, [CapturedFrame(np.zeros((8, 8, 3), np.uint8), float(i))],
                            OP)
    body = f"11010119900307{i:03d}"
    iccid = f"898600{i:013d}"
    return registry.registrations.register(RegistrationRequest(
        operator_id="op", document=parse_document("cn_ric", body + ric.calc_check_digit(body + "0")),
        document_face=faces[i], capture_session_id=new.session.id, iccid=iccid + luhn.calc_check_digit(iccid),
        consent_version="v1", consent_at=datetime.now(UTC), name=f"Person {i}", document_photo=retained), "test", OP)


def _setup(make_registry: Callable[..., Any], fake_face: Any, fake_live: Any,
           **settings: Any) -> tuple[Any, dict[int, Any]]:
    rng = np.random.default_rng(3)
    faces: dict[int, Any] = {}
    registry = make_registry(liveness=lambda _e, frames, _c, _n: fake_live(faces[int(frames[0].t_ms)]), **settings)
    faces.update({i: fake_face(rng, registry.scorer.model_names) for i in range(10)})
    with transaction(registry.sessions) as session:
        session.add(Operator(id="op", name="Op", country="CN"))
        session.flush()
        session.add_all([PhoneNumber(operator_id="op", msisdn=f"+86139000001{i:02d}") for i in range(10)])
    return registry, faces


def test_rotation_rewraps_everything_and_templates_still_open(make_registry: Callable[..., Any], fake_face: Any,
                                                              fake_live: Any) -> None:
    registry, faces = _setup(make_registry, fake_face, fake_live)
    for i in range(4):
        assert _register(registry, faces, i).registration.decision == "approved"
    old = registry.keyring.key_id
    assert key_usage(registry.sessions) == {old: 4}  # 4 subscribers; used captures were shredded
    report = rotate(registry.sessions, registry.keyring, retire=True)
    assert report.new_key != old and report.rewrapped == 4 and report.retired == [old]
    assert set(key_usage(registry.sessions)) == {report.new_key}
    assert old not in registry.keyring.key_ids
    # the running service still reads every template, and new registrations work
    assert registry.rebuild_index() == 4
    assert _register(registry, faces, 5).registration.decision == "approved"
    with registry.sessions() as s:
        for row in s.query(Subscriber):
            assert registry.registrations.open_template(row).shape == (256,)


def test_keys_commands(make_registry: Callable[..., Any], fake_face: Any, fake_live: Any, backend: str,
                       monkeypatch: Any) -> None:
    if backend != "sqlite":
        return  # the commands read FACEKYC_* settings; the SQLite file is enough to exercise them
    registry, faces = _setup(make_registry, fake_face, fake_live)
    _register(registry, faces, 1)
    from facekyc.cli import app

    monkeypatch.setenv("FACEKYC_DATA_DIR", str(registry.settings.data_dir))
    runner = CliRunner()
    status = runner.invoke(app, ["keys", "status"])
    assert status.exit_code == 0, status.output
    before = json.loads(status.output)
    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0 and "re-wrapped 1 data keys" in rotated.output, rotated.output
    after = json.loads(runner.invoke(app, ["keys", "status"]).output)
    assert after["current"] != before["current"] and list(after["data_keys_per_master_key"]) == [after["current"]]
    assert _register(registry, faces, 2).registration.decision == "approved"  # the server noticed the new key
    created = runner.invoke(app, ["apikeys", "create", "--role", "auditor", "--name", "ops", "--global"])
    assert created.exit_code == 0 and json.loads(created.output)["token"].startswith("fk_")
    assert runner.invoke(app, ["apikeys", "create", "--role", "root", "--name", "x"]).exit_code == 2
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0


def test_retention_seals_images_and_purges_when_due(make_registry: Callable[..., Any], fake_face: Any,
                                                    fake_live: Any) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select

    from facekyc.registry.retention import open_image, purge_due
    from facekyc.storage.models import RetainedImage

    registry, faces = _setup(make_registry, fake_face, fake_live, retain_images_days=2)
    photo = b"\xff\xd8\xff\xe0" + b"document photo bytes" * 20
    _register(registry, faces, 1, retained=photo)
    with registry.sessions() as s:
        rows = list(s.execute(select(RetainedImage)).scalars())
    assert {r.kind for r in rows} == {"document", "live"}
    doc = next(r for r in rows if r.kind == "document")
    assert photo not in doc.ciphertext and b"\xff\xd8\xff" not in doc.ciphertext[:16]
    assert open_image(registry, doc) == photo
    assert purge_due(registry) == 0
    assert purge_due(registry, now=datetime.now(UTC) + timedelta(days=3)) == 2
    with registry.sessions() as s:
        assert s.execute(select(func.count()).select_from(RetainedImage)).scalar_one() == 0
