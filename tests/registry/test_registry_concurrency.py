"""50 parallel registrations for 10 free numbers: exactly 10 approved, no number twice, no partial rows."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import numpy as np
from idnumbers import iccid as _iccid
from idnumbers import ric_number as _ric
from sqlalchemy import func, select

from facekyc.documents import parse_document
from facekyc.registry import audit
from facekyc.registry.registration import RegistrationRequest
from facekyc.registry.scope import Scope
from facekyc.storage.db import transaction
from facekyc.storage.models import Operator, PhoneNumber, Registration, Subscriber, Subscription
from facekyc.vision.liveness.types import CapturedFrame

N_REQUESTS, N_NUMBERS = 50, 10

OP = Scope("op")


def ric_number(seq: int) -> str:
    return _ric(seq, birth="19900307")


def iccid(seq: int) -> str:
    return _iccid(seq, issuer="898600")




def test_parallel_registrations_never_share_a_number(make_registry: Callable[..., Any], fake_face: Any,
                                                     fake_live: Any) -> None:
    rng = np.random.default_rng(7)
    faces: dict[int, Any] = {}
    registry = make_registry(liveness=lambda _e, frames, _c, _n: fake_live(faces[int(frames[0].t_ms)]))
    faces.update({i: fake_face(rng, registry.scorer.model_names) for i in range(N_REQUESTS)})
    with transaction(registry.sessions) as session:
        session.add(Operator(id="op", name="Op", country="CN", max_numbers_per_identity=None))
        session.flush()
        session.add_all([PhoneNumber(operator_id="op", msisdn=f"+86139000000{i:02d}", status="free")
                         for i in range(N_NUMBERS)])
    frame = np.zeros((8, 8, 3), np.uint8)
    requests = []
    for i in range(N_REQUESTS):
        new = registry.captures.create("test", "op")
        registry.captures.upload(new.session.id, new.nonce, [CapturedFrame(frame, float(i))], OP)
        requests.append(RegistrationRequest(operator_id="op", document=parse_document("cn_ric", ric_number(i)),
                                            document_face=faces[i], capture_session_id=new.session.id,
                                            iccid=iccid(i), consent_version="v1", consent_at=datetime.now(UTC)))

    with ThreadPoolExecutor(max_workers=N_REQUESTS) as pool:
        outcomes = list(pool.map(lambda r: registry.registrations.register(r, "test", OP), requests))

    decisions = [o.registration.decision for o in outcomes]
    assert decisions.count("approved") == N_NUMBERS
    assert decisions.count("rejected") == N_REQUESTS - N_NUMBERS
    assert all(o.registration.reasons == ["no_number_available"] for o in outcomes
               if o.registration.decision == "rejected")
    numbers = [o.msisdn for o in outcomes if o.msisdn]
    assert len(numbers) == len(set(numbers)) == N_NUMBERS
    with registry.sessions() as session:
        def count(model: Any, *where: Any) -> int:
            return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())

        assert count(Registration) == N_REQUESTS
        assert count(Subscription) == N_NUMBERS
        assert count(Subscriber) == N_NUMBERS  # rejected cases left no subscriber behind
        assert count(PhoneNumber, PhoneNumber.status == "assigned") == N_NUMBERS
        assert count(PhoneNumber, PhoneNumber.status == "free") == 0
        assert session.execute(select(func.count(func.distinct(Subscription.phone_number_id)))).scalar_one() \
            == N_NUMBERS
        report = audit.verify(session)
    assert report.ok and report.entries == N_REQUESTS
    assert len(registry.index) == N_NUMBERS
