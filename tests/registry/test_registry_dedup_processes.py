"""Dedup across server processes, with two Registries on one database (each as one process holds):
enrolments and erasures of one are seen by the other before it decides, and the same new face
registered under two identities at the same moment through both never gets two approvals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from conftest import current_schema
from idnumbers import iccid, ric_number

from facekyc.documents import parse_document
from facekyc.registry.registration import RegistrationOutcome, RegistrationRequest
from facekyc.registry.scope import Scope
from facekyc.registry.service import Registry
from facekyc.storage.db import transaction
from facekyc.storage.models import Operator, PhoneNumber
from facekyc.vision.liveness.types import CapturedFrame


class Twins:
    """Two Registries (two processes' worth: own index, own cursor) over one database and keyring."""

    def __init__(self, make_registry: Callable[..., Any], fake_face: Any, fake_live: Any) -> None:
        self.faces: dict[int, Any] = {}
        hook = lambda _e, frames, _c, _n: fake_live(self.faces[int(frames[0].t_ms)])  # noqa: E731
        self.a: Registry = make_registry(liveness=hook)
        self.b = Registry.open(self.a.settings, self.a.engine, liveness=hook, schema=current_schema(self.a))
        self.rng = np.random.default_rng(11)
        self.seq = 0
        with transaction(self.a.sessions) as session:
            session.add(Operator(id="op", name="Op", country="CN", max_numbers_per_identity=None))
            session.flush()
            session.add_all([PhoneNumber(operator_id="op", msisdn=f"+8613900000{i:03d}", status="free")
                             for i in range(40)])

    def capture(self, via: Registry, face: Any) -> str:
        self.seq += 1
        self.faces[self.seq] = face
        new = via.captures.create("test", "op")
        via.captures.upload(new.session.id, new.nonce, [CapturedFrame(np.zeros((8, 8, 3), np.uint8), float(self.seq))],
                            Scope("op"))
        return new.session.id

    def register(self, via: Registry, face: Any, person: int) -> RegistrationOutcome:
        req = RegistrationRequest(operator_id="op", document=parse_document("cn_ric", ric_number(person)),
                                  document_face=face, capture_session_id=self.capture(via, face),
                                  iccid=iccid(person), consent_version="v1", consent_at=datetime.now(UTC))
        return via.registrations.register(req, "test", Scope("op"))

    def close(self) -> None:
        self.b.close()


@pytest.fixture
def twins(make_registry: Callable[..., Any], fake_face: Any, fake_live: Any) -> Any:
    pair = Twins(make_registry, fake_face, fake_live)
    yield pair
    pair.close()


def test_enrolment_and_erasure_in_one_process_reach_the_other(twins: Twins, fake_face: Any) -> None:
    a, b = twins.a, twins.b
    face = fake_face(twins.rng, a.scorer.model_names)
    first = twins.register(a, face, 1)
    assert first.registration.decision == "approved"
    dup = twins.register(b, face, 2)  # B never saw A's commit in-process: only the database
    assert dup.registration.decision == "review" and "duplicate_face" in dup.registration.reasons
    assert dup.registration.rules[0]["detail"]["matches"][0]["subscriber"] == first.subscriber_ref
    enrolled_id = first.registration.subscriber_id
    assert enrolled_id in b.index

    closing = a.captures.create("test", "op")
    twins.seq += 1
    twins.faces[twins.seq] = face
    a.captures.upload(closing.session.id, closing.nonce, [CapturedFrame(np.zeros((8, 8, 3), np.uint8),
                                                                        float(twins.seq))], Scope("op"))
    check = a.lines.close(parse_document("cn_ric", ric_number(1)), first.msisdn or "", closing.session.id, "test",
                          Scope("op"))
    assert check.erased
    b.feed.catch_up()
    assert enrolled_id not in b.index  # the tombstone left B's index too
    again = twins.register(b, face, 3)
    assert again.registration.decision == "approved", again.registration.reasons


def _race(start: threading.Barrier, out: dict[str, RegistrationOutcome], name: str, via: Registry, face: Any,
          capture_id: str, person: int) -> None:
    req = RegistrationRequest(operator_id="op", document=parse_document("cn_ric", ric_number(person)),
                              document_face=face, capture_session_id=capture_id, iccid=iccid(person),
                              consent_version="v1", consent_at=datetime.now(UTC))
    start.wait()
    out[name] = via.registrations.register(req, "test", Scope("op"))


def test_same_new_face_two_identities_two_processes_same_moment(twins: Twins, fake_face: Any) -> None:
    rounds = 6
    for r in range(rounds):
        face = fake_face(twins.rng, twins.a.scorer.model_names)
        captures = {name: twins.capture(via, face) for name, via in (("a", twins.a), ("b", twins.b))}
        start = threading.Barrier(2)
        out: dict[str, RegistrationOutcome] = {}

        threads = [threading.Thread(target=_race, args=(start, out, name, via, face, captures[name], person))
                   for name, via, person in (("a", twins.a, 100 + 2 * r), ("b", twins.b, 101 + 2 * r))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        decisions = sorted(o.registration.decision for o in out.values())
        assert decisions == ["approved", "review"], [o.registration.reasons for o in out.values()]
        review = next(o for o in out.values() if o.registration.decision == "review")
        assert review.registration.reasons == ["duplicate_face"]
