"""Model upgrades on real faces: templates enrolled under SFace only, then the current configuration
switched to fused SFace+dlib. Older templates keep being checked (1:1 and dedup) with their own
configuration, move at a face-verified contact, and `templates migrate` moves those with a kept crop."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from conftest import current_schema, live_result
from idnumbers import iccid, ric_number
from sqlalchemy import func, select

from facekyc.documents import parse_document
from facekyc.registry.registration import RegistrationOutcome, RegistrationRequest
from facekyc.registry.scope import Scope
from facekyc.registry.service import Registry
from facekyc.registry.template_configs import config_id
from facekyc.registry.template_migration import migrate_templates, template_counts
from facekyc.storage.db import transaction
from facekyc.storage.models import AuditEntry, Operator, PhoneNumber, Subscriber
from facekyc.vision.calibration import Calibration
from facekyc.vision.engine import FaceAnalysis, FaceEngine, Scorer
from facekyc.vision.liveness.types import CapturedFrame

HOLDER, OTHER = "Paul_Wolfowitz", "Jennifer_Lopez"
SCOPE = Scope("op", "store-1")


class Desk:
    """A store desk over one database: real LFW faces go through the capture as the 'live' best frame."""

    def __init__(self, lfw: Path, engine: FaceEngine) -> None:
        self.lfw, self.engine = lfw, engine
        self.frames: dict[int, tuple[np.ndarray, FaceAnalysis]] = {}
        self.seq = 0

    def liveness(self, _engine: Any, frames: list[CapturedFrame], _challenge: Any, _n: Any) -> Any:
        return live_result(self.frames[int(frames[0].t_ms)][1])

    def face(self, person: str, number: int, purpose: str = "live") -> tuple[np.ndarray, FaceAnalysis]:
        data = sorted((self.lfw / person).glob("*.jpg"))[number - 1].read_bytes()  # the person's n-th image
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if purpose == "live":  # upscaled to 500x500 like a kiosk camera's frame
            bgr = cv2.resize(bgr, (500, 500), interpolation=cv2.INTER_CUBIC)
        return bgr, self.engine.analyse(bgr, purpose=purpose, policy="primary")  # type: ignore[arg-type]

    def capture(self, registry: Registry, person: str, number: int) -> str:
        self.seq += 1
        self.frames[self.seq] = self.face(person, number)
        new = registry.captures.create("clerk", "op")
        registry.captures.upload(new.session.id, new.nonce, [CapturedFrame(self.frames[self.seq][0], float(self.seq))],
                                 SCOPE)
        return new.session.id

    def register(self, registry: Registry, person: str, doc_image: int, live_image: int,
                 identity: int) -> RegistrationOutcome:
        document_face = self.face(person, doc_image, "document")[1]
        req = RegistrationRequest(operator_id="op", document=parse_document("cn_ric", ric_number(identity)),
                                  document_face=document_face,
                                  capture_session_id=self.capture(registry, person, live_image),
                                  iccid=iccid(identity), consent_version="v1", consent_at=datetime.now(UTC))
        return registry.registrations.register(req, "clerk", SCOPE)

    def switch(self, registry: Registry, models: str) -> Registry:
        """The same database and keys, opened as a process configured with other models."""
        settings = registry.settings.model_copy(update={"models": models})
        return Registry.open(settings, registry.engine, liveness=self.liveness, schema=current_schema(registry))


@pytest.fixture
def desk(lfw_images: Path, engine: FaceEngine) -> Desk:
    return Desk(lfw_images, engine)


@pytest.fixture
def sface_registry(make_registry: Callable[..., Registry], desk: Desk, request: pytest.FixtureRequest) -> Registry:
    registry = make_registry(liveness=desk.liveness, models="sface",
                             keep_enrolment_crop=getattr(request, "param", False))
    with transaction(registry.sessions) as session:
        session.add(Operator(id="op", name="Op", country="CN", max_numbers_per_identity=None))
        session.flush()
        session.add_all([PhoneNumber(operator_id="op", msisdn=f"+8613900000{i:03d}", status="free") for i in range(9)])
    return registry


def versions(registry: Registry) -> dict[str, str | None]:
    with registry.sessions() as session:
        return {ref: v for ref, v in session.execute(select(Subscriber.ref, Subscriber.template_version))}


def test_older_templates_are_checked_with_their_models_and_move_at_a_contact(sface_registry: Registry,
                                                                             desk: Desk) -> None:
    old = sface_registry
    holder = desk.register(old, HOLDER, 1, 2, identity=1)
    other = desk.register(old, OTHER, 1, 2, identity=2)
    assert (holder.registration.decision, other.registration.decision) == ("approved", "approved"), \
        (holder.registration.rules, other.registration.rules)
    calibration = old.engine.calibration
    sface_id, fused_id = config_id(["sface"], calibration), config_id(["sface", "dlib"], calibration)
    assert set(versions(old).values()) == {sface_id} and sface_id.startswith("sface@cal-")

    new = desk.switch(old, "sface,dlib")
    try:
        assert new.configs.current_id == fused_id and new.configs.legacy_in_use() == [sface_id]
        assert [(c.config, c.templates, c.current, c.usable) for c in template_counts(new)] == [
            (fused_id, 0, True, True), (sface_id, 2, False, True)]

        sface_threshold = round(Scorer(calibration, ["sface"]).threshold(new.settings.sim_swap_fmr_target), 4)
        assert sface_threshold != round(new.scorer.threshold(new.settings.sim_swap_fmr_target), 4)
        impostor = new.lines.replace_sim(holder.msisdn or "", iccid(90), desk.capture(new, OTHER, 3), "clerk", SCOPE)
        assert impostor.decision == "rejected" and impostor.reasons == ["face_mismatch"]
        assert impostor.template_config == sface_id and impostor.scores["threshold"] == sface_threshold
        assert versions(new)[holder.subscriber_ref or ""] == sface_id  # a failed check moves nothing

        genuine = new.lines.replace_sim(holder.msisdn or "", iccid(91), desk.capture(new, HOLDER, 3), "clerk", SCOPE)
        assert genuine.decision == "approved", genuine.scores
        assert genuine.scores["threshold"] == sface_threshold and genuine.template_config == sface_id
        assert genuine.reenrolled_as == fused_id
        assert all(isinstance(v, float) for v in genuine.scores.values())  # the API's scores are numbers only
        with new.sessions() as session:
            swap = session.execute(select(AuditEntry).where(AuditEntry.action == "sim.replaced")).scalar_one()
        details = json.loads(swap.details)
        assert (details["template_config"], details["reenrolled_as"]) == (sface_id, fused_id)
        assert versions(new) == {holder.subscriber_ref: fused_id, other.subscriber_ref: sface_id}
        holder_id = int(holder.registration.subscriber_id or 0)
        assert holder_id in new.index and holder_id not in new.configs.legacy_index(sface_id)

        # the re-enrolled template is a fused one: the holder's next contact is checked with fused scores
        again = new.lines.numbers_for(parse_document("cn_ric", ric_number(1)), desk.capture(new, HOLDER, 4),
                                      "clerk", SCOPE)
        assert again.decision == "approved" and again.template_config is None and again.reenrolled_as is None
        assert [line.msisdn for line in again.lines] == [holder.msisdn]

        # dedup: each configuration's templates are searched with that configuration
        dup_old = desk.register(new, OTHER, 3, 4, identity=3)
        assert dup_old.registration.decision == "review"
        assert all(isinstance(v, float) for v in dup_old.registration.scores.values())
        matches = dup_old.registration.rules[0]["detail"]["matches"]
        assert [(m["subscriber"], m.get("template_config")) for m in matches] == [(other.subscriber_ref, sface_id)]
        dup_new = desk.register(new, HOLDER, 5, 6, identity=4)
        assert dup_new.registration.decision == "review"
        assert [m["subscriber"] for m in dup_new.registration.rules[0]["detail"]["matches"]] == [holder.subscriber_ref]

        # without kept crops nothing can move in place: migrate says who waits for a contact
        report = migrate_templates(new)
        assert (report.migrated, report.failed, report.awaiting_contact) == (0, 0, 1)

        # the other process (still SFace-only) follows the re-enrolment through the event log
        old.feed.catch_up()
        assert holder_id not in old.index and holder_id in old.configs.legacy_index(fused_id)
    finally:
        new.close()


@pytest.mark.parametrize("sface_registry", [True], indirect=True)
def test_templates_migrate_re_embeds_from_kept_crops(sface_registry: Registry, desk: Desk) -> None:
    old = sface_registry
    holder = desk.register(old, HOLDER, 1, 2, identity=1)
    other = desk.register(old, OTHER, 1, 2, identity=2)
    assert (holder.registration.decision, other.registration.decision) == ("approved", "approved"), \
        (holder.registration.rules, other.registration.rules)
    new = desk.switch(old, "sface,dlib")
    try:
        fused_id = new.configs.current_id
        report = migrate_templates(new)
        assert (report.migrated, report.failed, report.awaiting_contact) == (2, 0, 0)
        assert set(versions(new).values()) == {fused_id} and new.configs.legacy_in_use() == []
        assert [(c.config, c.templates, c.with_crop) for c in template_counts(new)] == [(fused_id, 2, 2)]
        with new.sessions() as session:
            assert session.execute(select(func.count()).select_from(AuditEntry)
                                   .where(AuditEntry.action == "template.migrated")).scalar_one() == 2
        # the templates re-embedded from crops still identify their holders, with fused scores
        genuine = new.lines.replace_sim(holder.msisdn or "", iccid(91), desk.capture(new, HOLDER, 3), "clerk", SCOPE)
        assert genuine.decision == "approved" and genuine.template_config is None
        impostor = new.lines.replace_sim(other.msisdn or "", iccid(92), desk.capture(new, HOLDER, 4), "clerk", SCOPE)
        assert impostor.decision == "rejected"
        dup = desk.register(new, OTHER, 3, 4, identity=3)
        assert [m["subscriber"] for m in dup.registration.rules[0]["detail"]["matches"]] == [other.subscriber_ref]
        assert migrate_templates(new).migrated == 0  # nothing left to move
    finally:
        new.close()


def test_templates_cli_reports_counts_and_who_waits_for_a_contact(sface_registry: Registry, desk: Desk,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from facekyc.cli import app

    old = sface_registry
    if old.db.dialect.name != "sqlite":
        pytest.skip("the CLI reads its database from the environment; the PostgreSQL runs use a private schema")
    assert desk.register(old, HOLDER, 1, 2, identity=1).registration.decision == "approved"
    monkeypatch.setenv("FACEKYC_DATA_DIR", str(old.settings.data_dir))
    monkeypatch.delenv("FACEKYC_DATABASE_URL", raising=False)
    monkeypatch.setenv("FACEKYC_MODELS", "sface,dlib")
    runner = CliRunner()
    status = runner.invoke(app, ["templates", "status", "--json"])
    assert status.exit_code == 0, status.output
    shown = json.loads(status.output)
    sface_id = config_id(["sface"], old.engine.calibration)
    assert shown["current"] == config_id(["sface", "dlib"], old.engine.calibration)
    assert [(c["config"], c["templates"], c["current"]) for c in shown["configurations"]] == [
        (shown["current"], 0, True), (sface_id, 1, False)]
    migrated = runner.invoke(app, ["templates", "migrate"])
    assert migrated.exit_code == 0, migrated.output
    said = " ".join(migrated.output.split())  # however the console wraps it
    assert "0 template(s) re-embedded" in said and "FACEKYC_KEEP_ENROLMENT_CROP is off" in said
    assert "1 template(s) still need their customer's next face-verified contact" in said


def test_a_new_calibration_keeps_earlier_templates_checkable(sface_registry: Registry, desk: Desk) -> None:
    """Same models, refitted calibration (other fusion weights and thresholds): earlier templates are
    checked with the calibration recorded when they were enrolled, then re-enrolled under the new one."""
    import copy

    old = sface_registry
    holder = desk.register(old, HOLDER, 1, 2, identity=1)
    assert holder.registration.decision == "approved"
    data = json.loads(old.engine.calibration.to_json())
    data["fusion"]["weights"] = [w * 1.5 for w in data["fusion"]["weights"]]
    for score in data["scores"].values():
        score["thresholds"] = {k: v * 1.01 for k, v in score["thresholds"].items()}
    refitted = Calibration.from_json(json.dumps(data))
    engine = copy.copy(old.engine)  # the same loaded models under the refitted calibration
    engine.calibration, engine.scorer = refitted, Scorer(refitted, engine.model_names)
    settings = old.settings.model_copy(update={"models": "sface"})
    new = Registry.open(settings, engine, liveness=desk.liveness, schema=current_schema(old))
    try:
        earlier, current = config_id(["sface"], old.engine.calibration), config_id(["sface"], refitted)
        assert earlier != current
        assert [(c.config, c.templates, c.usable) for c in template_counts(new)] == [(current, 0, True),
                                                                                    (earlier, 1, True)]
        checked_with = round(Scorer(old.engine.calibration, ["sface"]).threshold(settings.sim_swap_fmr_target), 4)
        genuine = new.lines.replace_sim(holder.msisdn or "", iccid(91), desk.capture(new, HOLDER, 3), "clerk", SCOPE)
        assert genuine.decision == "approved" and genuine.scores["threshold"] == checked_with
        assert (genuine.template_config, genuine.reenrolled_as) == (earlier, current)
        assert versions(new) == {holder.subscriber_ref: current}
    finally:
        new.close()


def test_milvus_keeps_one_collection_per_configuration(make_registry: Callable[..., Registry], desk: Desk,
                                                       tmp_path: Path) -> None:
    import importlib.util

    for module in ("pymilvus", "milvus_lite"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install 'facekyc[milvus]')")
    old = make_registry(liveness=desk.liveness, models="sface", vector_backend="milvus",
                        milvus_uri=str(tmp_path / "faces.db"))
    with transaction(old.sessions) as session:
        session.add(Operator(id="op", name="Op", country="CN", max_numbers_per_identity=None))
        session.flush()
        session.add_all([PhoneNumber(operator_id="op", msisdn=f"+8613900000{i:03d}", status="free") for i in range(9)])
    holder = desk.register(old, HOLDER, 1, 2, identity=1)
    other = desk.register(old, OTHER, 1, 2, identity=2)
    assert (holder.registration.decision, other.registration.decision) == ("approved", "approved")
    new = desk.switch(old, "sface,dlib")
    try:
        assert new.index.collection != old.index.collection and len(new.index) == 0  # type: ignore[attr-defined]
        assert len(new.configs.legacy_index(old.configs.current_id)) == 2
        genuine = new.lines.replace_sim(holder.msisdn or "", iccid(91), desk.capture(new, HOLDER, 3), "clerk", SCOPE)
        assert genuine.reenrolled_as == new.configs.current_id
        assert int(holder.registration.subscriber_id or 0) in new.index and len(new.index) == 1
        dup = desk.register(new, OTHER, 3, 4, identity=3)  # found among the SFace-only templates
        assert [m["subscriber"] for m in dup.registration.rules[0]["detail"]["matches"]] == [other.subscriber_ref]
        dup = desk.register(new, HOLDER, 5, 6, identity=4)  # found through the fused collection
        assert [m["subscriber"] for m in dup.registration.rules[0]["detail"]["matches"]] == [holder.subscriber_ref]
    finally:
        new.close()
