"""End to end over a real uvicorn server and a real database, with real faces from LFW:
approve, face_mismatch, number_limit, duplicate_face review, SIM swap, numbers query, closure."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from facekyc.crypto import LocalKeyring, TemplateCipher, WrappedKey, data_key_aad, new_data_key
from facekyc.errors import DecryptionFailed, KeyNotFound
from facekyc.registry.embeddings import unpack_embeddings  # noqa: F401  (documents the stored form)
from facekyc.storage import testing as pg
from facekyc.storage.models import Subscriber

NAMES = {1: "Colin Luther Powell", 3: "Colin Second Identity", 4: "Colin Third Identity", 5: "Anthony Charles Blair",
         6: "Tony Other Identity", 7: "Anthony Impostor Case"}


@pytest.fixture(scope="module")
def state(backend: str) -> dict[str, Any]:
    return {"timings": []}


@pytest.fixture(scope="module")
def served(deploy: Callable[..., Any]) -> Any:
    return deploy(serve=True)


@pytest.fixture(scope="module")
def api(served: Any, api_factory: Any) -> Any:
    client = httpx.Client(base_url=served.base_url, timeout=60)
    return api_factory(client, served.admin_token)


def decide(api: Any, state: dict[str, Any], faces: Any, doc: str, live: str, document: str, name: str | None,
           **kw: Any) -> dict[str, Any]:
    capture = api.capture(faces(live)[1])
    t0 = time.perf_counter()
    r = api.register(faces(doc)[0], capture, document, name=name, **kw)
    state["timings"].append(time.perf_counter() - t0)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_registration_scenario(served: Any, api: Any, faces: Any, ids: Any, state: dict[str, Any]) -> None:
    api.operator("op", numbers=20)
    colin, tony = ids.ric(1), ids.ric(5)

    # genuine person: approved, number assigned, scores and operating point reported
    first = decide(api, state, faces, "Colin_Powell_0038", "Colin_Powell_0074", colin, NAMES[1])
    assert first["decision"] == "approved", first
    assert first["status"] == "completed" and re.fullmatch(r"\+86139\d{8}", first["msisdn"])
    assert first["reasons"] == [] and first["fmr_target"] == 1e-3
    assert first["scores"]["document_vs_live"] > first["scores"]["threshold"]

    # impostor: Tony Blair's document, Colin Powell's live face
    impostor = decide(api, state, faces, "Tony_Blair_0006", "Colin_Powell_0120", ids.ric(7), NAMES[7])
    assert impostor["decision"] == "rejected" and "face_mismatch" in impostor["reasons"]
    assert impostor["msisdn"] is None

    # numbers 2..5 for Colin's identity are fine, the 6th is refused
    for live in ("Colin_Powell_0120", "Colin_Powell_0074", "Colin_Powell_0120", "Colin_Powell_0074"):
        again = decide(api, state, faces, "Colin_Powell_0038", live, colin, NAMES[1])
        assert again["decision"] == "approved", again
    sixth = decide(api, state, faces, "Colin_Powell_0038", "Colin_Powell_0120", colin, NAMES[1])
    assert sixth["decision"] == "rejected" and sixth["reasons"] == ["number_limit"]
    assert sixth["rules"][0]["detail"] == {"active": 5, "limit": 5}

    # the same face under a second identity: review (never an automatic rejection)
    dup = decide(api, state, faces, "Colin_Powell_0120", "Colin_Powell_0074", ids.ric(3), NAMES[3])
    assert dup["decision"] == "review" and dup["reasons"] == ["duplicate_face"] and dup["msisdn"] is None
    reviewer = api.key("reviewer")
    queue = api.client.get("/v1/reviews", headers=reviewer).json()
    assert [case["id"] for case in queue] == [dup["id"]]
    assert queue[0]["rules"][0]["detail"]["matches"][0]["score"] > queue[0]["rules"][0]["detail"]["threshold"]
    r = api.client.post(f"/v1/reviews/{dup['id']}", json={"decision": "reject", "comment": ""}, headers=reviewer)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"  # the comment is mandatory
    r = api.client.post(f"/v1/reviews/{dup['id']}", json={"decision": "reject", "comment": "same person as sbr"},
                        headers=reviewer)
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["review"]["decision"] == "rejected"
    r = api.client.post(f"/v1/reviews/{dup['id']}", json={"decision": "approve", "comment": "again"},
                        headers=reviewer)
    assert r.status_code == 409 and r.json()["code"] == "review_closed"

    # a second duplicate case, approved by the reviewer: completes with a number in one go
    dup2 = decide(api, state, faces, "Colin_Powell_0120", "Colin_Powell_0120", ids.ric(4), NAMES[4])
    assert dup2["decision"] == "review"
    r = api.client.post(f"/v1/reviews/{dup2['id']}", json={"decision": "approve", "comment": "twin, documents ok"},
                        headers=reviewer)
    assert r.status_code == 200 and r.json()["status"] == "completed" and r.json()["msisdn"]

    # Tony Blair registers; a SIM replacement by someone else is refused, by himself approved
    blair = decide(api, state, faces, "Tony_Blair_0006", "Tony_Blair_0094", tony, NAMES[5])
    assert blair["decision"] == "approved", blair
    clerk = api.key("clerk")
    swap = {"msisdn": blair["msisdn"], "new_iccid": ids.sim(900)}
    r = api.client.post("/v1/sim-replacements", headers=clerk,
                        json={**swap, "capture_session_id": api.capture(faces("Donald_Rumsfeld_0022")[1])})
    assert r.status_code == 200 and r.json()["decision"] == "rejected" and r.json()["reasons"] == ["face_mismatch"]
    assert r.json()["fmr_target"] == 1e-4
    r = api.client.post("/v1/sim-replacements", headers=clerk,
                        json={**swap, "capture_session_id": api.capture(faces("Tony_Blair_0094")[1])})
    assert r.status_code == 200 and r.json()["decision"] == "approved", r.text

    # numbers under my ID: needs the holder's face
    query = {"doc_type": "cn_ric", "document": tony}
    r = api.client.post("/v1/numbers-query", headers=clerk,
                        json={**query, "capture_session_id": api.capture(faces("Colin_Powell_0074")[1])})
    assert r.json()["decision"] == "rejected" and r.json()["numbers"] == []
    r = api.client.post("/v1/numbers-query", headers=clerk,
                        json={**query, "capture_session_id": api.capture(faces("Tony_Blair_0094")[1])})
    assert r.json()["decision"] == "approved" and [n["msisdn"] for n in r.json()["numbers"]] == [blair["msisdn"]]

    # closure of the last number erases the template: the face is no longer found by dedup
    with served.registry.sessions() as session:
        tony_row = session.execute(select(Subscriber).where(Subscriber.ref.is_not(None))
                                   .order_by(Subscriber.id.desc())).scalars().first()
        assert tony_row is not None and tony_row.template_ciphertext is not None
        tony_id = tony_row.id
    assert tony_id in served.registry.index
    r = api.client.post("/v1/closures", headers=clerk, json={**query, "msisdn": blair["msisdn"],
                                                             "capture_session_id": api.capture(
                                                                 faces("Tony_Blair_0094")[1])})
    assert r.status_code == 200 and r.json()["decision"] == "approved" and r.json()["subscriber_erased"] is True
    assert tony_id not in served.registry.index
    with served.registry.sessions() as session:
        erased = session.get(Subscriber, tony_id)
        assert erased is not None and erased.status == "erased"
        assert erased.wrapped_key is None and erased.template_ciphertext is None and erased.identity_index is None
    other = decide(api, state, faces, "Tony_Blair_0094", "Tony_Blair_0094", ids.ric(6), NAMES[6])
    assert other["decision"] == "approved" and "duplicate_face" not in other["reasons"], other

    # the audit chain is intact and carries no personal data
    auditor = api.key("auditor")
    report = api.client.get("/v1/audit/verify", headers=auditor).json()
    assert report["ok"] is True and report["entries"] > 20
    entries = api.client.get("/v1/audit", params={"limit": 1000}, headers=auditor).text
    for number in (colin, tony, ids.ric(3)):
        assert number not in entries
    for name in NAMES.values():
        assert name not in entries

    metrics = api.client.get("/metrics").text
    assert 'facekyc_decisions_total{kind="registration",outcome="rejected",reason="face_mismatch"}' in metrics
    assert 'facekyc_engine_stage_seconds_count{stage="embed_sface"}' in metrics
    assert "facekyc_http_request_duration_seconds_bucket" in metrics
    state["registered"] = True


IMAGE_MAGIC = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51"]


def _needles(ids: Any) -> list[bytes]:
    numbers = [ids.ric(i) for i in (1, 3, 4, 5, 6, 7)]
    return [n.encode() for n in numbers] + [n.encode() for n in NAMES.values()]


def test_dump_holds_no_document_number_name_or_image(served: Any, ids: Any, state: dict[str, Any], backend: str,
                                                      faces: Any) -> None:
    if not state.get("registered"):
        pytest.skip("needs the registration scenario")
    blobs: list[bytes] = [p.read_bytes() for p in Path(served.data_dir).rglob("*") if p.is_file()]
    if backend == "postgres":
        url = pg.postgres_url().replace("postgresql+psycopg://", "postgresql://")
        dump = subprocess.run(["pg_dump", "--no-owner", "-n", served.schema, url], capture_output=True, check=True,
                              env={**os.environ, "PGCONNECT_TIMEOUT": "5"}).stdout
        assert b"CREATE TABLE" in dump and b"subscribers" in dump
        blobs.append(dump)
    else:
        assert any(b"SQLite format 3" in b for b in blobs)
    hexed = [m.hex().encode() for m in IMAGE_MAGIC]
    for blob in blobs:
        for needle in _needles(ids):
            assert needle not in blob
        for magic in IMAGE_MAGIC:
            assert magic not in blob
        if backend == "postgres":
            for magic in hexed:  # bytea is dumped as hex text
                assert magic not in blob.lower()

    # templates: the stored bytes are not the vector, and without the key nothing opens them
    registry = served.registry
    with registry.sessions() as session:
        row = session.execute(select(Subscriber).where(Subscriber.template_ciphertext.is_not(None))).scalars().first()
    assert row is not None and row.template_ciphertext is not None and row.wrapped_key is not None
    enrolled = registry.registrations.open_template(row)
    assert enrolled.astype("<f4").tobytes() not in row.template_ciphertext
    for blob in blobs:
        assert enrolled.astype("<f4").tobytes()[:64] not in blob
    with pytest.raises(DecryptionFailed):
        TemplateCipher().decrypt(new_data_key(), row.template_ciphertext, row.ref)
    stranger = LocalKeyring.load_or_create(Path(served.data_dir) / "other" / "keyring.json")
    with pytest.raises((KeyNotFound, DecryptionFailed)):
        stranger.unwrap(WrappedKey.from_bytes(row.wrapped_key), data_key_aad(row.ref))
    assert np.isfinite(enrolled).all()


def test_latency_report(state: dict[str, Any], backend: str) -> None:
    if not state["timings"]:
        pytest.skip("no registrations timed")
    timings = sorted(state["timings"])
    print(f"\n[{backend}] registration request latency over {len(timings)} requests: "
          f"median {timings[len(timings) // 2] * 1000:.0f} ms, max {timings[-1] * 1000:.0f} ms")
