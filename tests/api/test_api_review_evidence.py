"""Review evidence over a real server and database: face crops of an open case are shown only to reviewers,
never cached, every view audited, destroyed by the decision or when the case stays open too long; the
duplicate's face only with keep_enrolment_crop. Scores come with their margin and FMR in words."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from facekyc.registry.evidence import NO_ENROLMENT_CROP
from facekyc.registry.retention import purge_due
from facekyc.storage.models import AuditEntry, CaptureSession, ReviewEvidence, Subscriber, utcnow

COLIN_DOC, COLIN_LIVE, COLIN_OTHER = "Colin_Powell_0038", "Colin_Powell_0074", "Colin_Powell_0120"


def client_for(dep: Any, api_factory: Any) -> Any:
    """One client per deployment (kept on it), so its keys and ICCID counter carry over between the tests."""
    if not hasattr(dep, "test_api"):
        dep.test_api = api_factory(httpx.Client(base_url=dep.base_url, timeout=60), dep.admin_token)
    return dep.test_api


def register(api: Any, faces: Any, doc: str, live: str, document: str) -> dict[str, Any]:
    r = api.register(faces(doc)[0], api.capture(faces(live)[1]), document)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def duplicate_case(api: Any, faces: Any, ids: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Colin enrols, then the same face comes back under a second identity: a duplicate_face case."""
    api.operator("op", numbers=5)
    first = register(api, faces, COLIN_DOC, COLIN_LIVE, ids.ric(1))
    assert first["decision"] == "approved", first
    case = register(api, faces, COLIN_OTHER, COLIN_LIVE, ids.ric(3))
    assert case["decision"] == "review" and case["reasons"] == ["duplicate_face"], case
    return first, case


def views(dep: Any, registration_id: str) -> list[dict[str, Any]]:
    with dep.registry.sessions() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == "review.evidence_viewed",
                                                        AuditEntry.target == registration_id)
                               .order_by(AuditEntry.seq)).scalars()
        return [{"actor": e.actor, **json.loads(e.details)} for e in rows]


def same_face(engine: Any, crop: bytes, original: bytes) -> bool:
    a = engine.analyse(crop, policy="primary")
    b = engine.analyse(original, policy="primary")
    return bool(engine.compare(a, b).decision == "match")


@pytest.fixture(scope="module")
def with_crops(deploy: Callable[..., Any]) -> Any:
    return deploy(serve=True, keep_enrolment_crop=True)


@pytest.fixture(scope="module")
def default(deploy: Callable[..., Any]) -> Any:
    return deploy(serve=True)


def test_open_case_shows_its_crops_and_the_duplicates_to_reviewers_only_and_the_decision_destroys_them(
        with_crops: Any, api_factory: Any, faces: Any, ids: Any, engine: Any) -> None:
    api = client_for(with_crops, api_factory)
    first, case = duplicate_case(api, faces, ids)
    reviewer = api.key("reviewer")
    base = f"/v1/reviews/{case['id']}/evidence"

    r = api.client.get(base, headers=reviewer)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    listing = r.json()
    assert set(listing["images"]) == {"document", "live"} and listing["purged_at"] is None
    assert listing["purge_after"] is not None and listing["notes"] == []
    [match] = listing["matches"]
    assert match["available"] is True and match["url"] == f"{base}/subscribers/{match['subscriber']}"

    shown = {}
    for what, url in [*listing["images"].items(), ("enrolled", match["url"])]:
        r = api.client.get(url, headers=reviewer)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "image/jpeg" and r.headers["cache-control"] == "no-store"
        shown[what] = r.content
    # each crop is the face it claims to be: the document photo's, the live frame's, the enrolled one's
    assert same_face(engine, shown["document"], faces(COLIN_OTHER)[0])
    assert same_face(engine, shown["live"], faces(COLIN_LIVE)[1])
    assert same_face(engine, shown["enrolled"], faces(COLIN_LIVE)[1])
    assert len({shown["document"], shown["live"]}) == 2
    key_id = next(k["id"] for k in api.client.get("/v1/api-keys", headers=api.admin).json()
                  if k["role"] == "reviewer")
    assert views(with_crops, case["id"]) == [
        {"actor": f"apikey:{key_id}", "image": "document"}, {"actor": f"apikey:{key_id}", "image": "live"},
        {"actor": f"apikey:{key_id}", "image": "enrolled", "subscriber": match["subscriber"]}]

    # other roles and strangers see nothing, and their attempts add no view
    for role in ("clerk", "auditor"):
        for url in (base, f"{base}/live"):
            r = api.client.get(url, headers=api.key(role))
            assert r.status_code == 403 and r.json()["code"] == "wrong_role"
    assert api.client.get(f"{base}/document").status_code == 401
    assert api.client.get(f"{base}/selfie", headers=reviewer).status_code == 422
    r = api.client.get(f"{base}/subscribers/sbr_{'0' * 24}", headers=reviewer)
    assert r.status_code == 404 and r.json()["code"] == "evidence_not_found"
    r = api.client.get(f"/v1/reviews/{first['id']}/evidence", headers=reviewer)  # an approved registration
    assert r.status_code == 404 and r.json()["code"] == "evidence_not_found"
    assert len(views(with_crops, case["id"])) == 3

    # the decision shreds the crops: 404 afterwards, the row is gone, the audit says so
    r = api.client.post(f"/v1/reviews/{case['id']}", json={"decision": "approve", "comment": "twin, documents ok"},
                        headers=reviewer)
    assert r.status_code == 200 and r.json()["status"] == "completed", r.text
    for url in (base, f"{base}/document", f"{base}/live", match["url"]):
        r = api.client.get(url, headers=reviewer)
        assert r.status_code == 404 and r.json()["code"] == "evidence_not_found", url
    with with_crops.registry.sessions() as session:
        assert session.get(ReviewEvidence, case["id"]) is None
        decided = session.execute(select(AuditEntry).where(AuditEntry.action == "review.decided",
                                                           AuditEntry.target == case["id"])).scalar_one()
        assert json.loads(decided.details)["evidence_shredded"] is True
        # every used capture's crop is gone; the approved twin was enrolled with its live crop
        assert session.execute(select(CaptureSession.id).where(
            CaptureSession.face_crop_ciphertext.is_not(None))).all() == []
        assert session.execute(select(Subscriber.id).where(Subscriber.face_crop_ciphertext.is_not(None))
                               ).all().__len__() == 2


def test_a_face_change_under_the_same_identity_shows_the_enrolled_face(with_crops: Any, api_factory: Any,
                                                                       faces: Any, ids: Any, engine: Any) -> None:
    """Colin's ID (enrolled above) comes back with Tony Blair's face on the photo and at the camera."""
    api = client_for(with_crops, api_factory)
    case = register(api, faces, "Tony_Blair_0006", "Tony_Blair_0094", ids.ric(1))
    assert case["decision"] == "review" and case["reasons"] == ["identity_face_mismatch"], case
    reviewer = api.key("reviewer")
    listing = api.client.get(f"/v1/reviews/{case['id']}/evidence", headers=reviewer).json()
    [own] = listing["matches"]
    assert own["available"] is True and set(listing["images"]) == {"document", "live"}
    r = api.client.get(own["url"], headers=reviewer)
    assert r.status_code == 200 and same_face(engine, r.content, faces(COLIN_LIVE)[1])
    assert not same_face(engine, r.content, faces("Tony_Blair_0094")[1])
    r = api.client.post(f"/v1/reviews/{case['id']}", json={"decision": "reject", "comment": "not the holder"},
                        headers=reviewer)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert api.client.get(own["url"], headers=reviewer).status_code == 404


def test_without_enrolment_crops_the_case_says_what_cannot_be_shown_and_stale_cases_are_purged(
        default: Any, api_factory: Any, faces: Any, ids: Any) -> None:
    api = client_for(default, api_factory)
    _, case = duplicate_case(api, faces, ids)
    reviewer = api.key("reviewer")
    base = f"/v1/reviews/{case['id']}/evidence"
    listing = api.client.get(base, headers=reviewer).json()
    assert set(listing["images"]) == {"document", "live"}
    assert [m["available"] for m in listing["matches"]] == [False] and listing["matches"][0]["url"] is None
    assert listing["notes"] == [NO_ENROLMENT_CROP] and "come back" in NO_ENROLMENT_CROP
    r = api.client.get(f"{base}/subscribers/{listing['matches'][0]['subscriber']}", headers=reviewer)
    assert r.status_code == 404 and r.json()["code"] == "evidence_not_found"
    with default.registry.sessions() as session:
        assert session.execute(select(Subscriber.id).where(Subscriber.face_crop_ciphertext.is_not(None))).all() == []

    # a capture that is checked but never used keeps its crop only for the use window
    unused = api.capture(faces(COLIN_LIVE)[1])
    assert purge_due(default.registry) == 0  # nothing is due yet
    with default.registry.sessions() as session:
        assert session.get(CaptureSession, unused).face_crop_ciphertext is not None

    # past the configured age the case keeps its scores but loses its crops, and says so
    later = utcnow() + timedelta(days=default.registry.settings.review_evidence_max_days, minutes=1)
    assert purge_due(default.registry, now=later) == 2
    listing = api.client.get(base, headers=reviewer).json()
    assert listing["images"] == {} and listing["purged_at"] is not None and listing["purge_after"] is None
    assert "stayed open longer than 30 days" in listing["notes"][0]
    r = api.client.get(f"{base}/live", headers=reviewer)
    assert r.status_code == 404 and r.json()["code"] == "evidence_not_found"
    with default.registry.sessions() as session:
        assert session.get(CaptureSession, unused).face_crop_ciphertext is None
        row = session.get(ReviewEvidence, case["id"])
        assert row is not None and row.wrapped_key is None and row.live_ciphertext is None
    # and it can still be decided
    r = api.client.post(f"/v1/reviews/{case['id']}", json={"decision": "reject", "comment": "no evidence left"},
                        headers=reviewer)
    assert r.status_code == 200 and r.json()["status"] == "rejected"


def test_scores_come_with_margin_and_fmr_in_words(default: Any, api_factory: Any, faces: Any, ids: Any) -> None:
    api = client_for(default, api_factory)
    case = next(iter(api.client.get("/v1/reviews", headers=api.key("reviewer")).json()), None)
    if case is None:  # the module's other test decided its case; make a fresh one
        case = register(api, faces, COLIN_OTHER, COLIN_LIVE, ids.ric(4))
    r = api.client.get(f"/v1/registrations/{case['id']}", headers=api.key("clerk"))
    explained = {e["name"]: e for e in r.json()["explained"]}
    doc = explained["document_vs_live"]
    assert doc["margin"] == pytest.approx(doc["score"] - doc["threshold"], abs=2e-4) and doc["margin"] > 0
    assert doc["fmr_words"] in doc["summary"]
    floor = r.json()["scores"]["estimated_fmr_floor"]
    # the same person scores far beyond the calibration's rarest impostor: said as a bound, not an estimate
    assert doc["estimated_fmr"] == pytest.approx(floor) and doc["fmr_words"].startswith("fewer than 1 in ")
    [dup] = [e for name, e in explained.items() if name.startswith("duplicate:sbr_")]
    assert dup["margin"] > 0 and dup["estimated_fmr"] < 1e-4 and " 1 in " in dup["fmr_words"]

    r = api.client.post("/v1/verifications", headers=api.key("clerk"), files={
        "document_photo": ("a.jpg", faces("Tony_Blair_0006")[0], "image/jpeg"),
        "live_photo": ("b.jpg", faces(COLIN_LIVE)[1], "image/jpeg")})
    body = r.json()
    assert r.status_code == 200 and body["decision"] == "non_match" and body["margin"] < 0
    assert body["fmr_words"].startswith("about 1 in ") and body["estimated_fmr"] > 1e-3
    assert body["fmr_words"] in body["summary"] and "below the threshold" in body["summary"]


def test_the_kiosk_can_check_an_operator_id(default: Any, api_factory: Any) -> None:
    api = client_for(default, api_factory)
    if api.client.get("/v1/operators/op", headers=api.admin).status_code == 404:
        api.operator("op", numbers=1)
    r = api.client.get("/v1/operators/op/public", headers=api.key("clerk"))
    assert r.status_code == 200 and r.json() == {"id": "op", "name": "OP", "country": "CN"}
    r = api.client.get("/v1/operators/nope/public", headers=api.key("clerk"))
    assert r.status_code == 404 and r.json()["code"] == "operator_not_found"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert api.client.get("/v1/operators/op/public", headers=api.key("auditor")).status_code == 403


def test_views_racing_the_decision_are_each_audited_and_none_after_it(with_crops: Any, api_factory: Any,
                                                                       faces: Any, ids: Any) -> None:
    """8 threads fetch the crops while the case is decided: every image served has its audit entry, and
    once the decision is committed nothing more is served (bounded: a few seconds)."""
    from concurrent.futures import ThreadPoolExecutor

    api = client_for(with_crops, api_factory)
    case = register(api, faces, COLIN_OTHER, COLIN_OTHER, ids.ric(6))
    assert case["decision"] == "review", case
    reviewer = api.key("reviewer")
    base = f"{with_crops.base_url}/v1/reviews/{case['id']}/evidence"

    def look(i: int) -> int:
        with httpx.Client(timeout=60) as client:
            r = client.get(f"{base}/{'document' if i % 2 else 'live'}", headers=reviewer)
            assert r.status_code in (200, 404), r.text
            return r.status_code

    def decide() -> None:
        with httpx.Client(timeout=60) as client:
            r = client.post(f"{with_crops.base_url}/v1/reviews/{case['id']}", headers=reviewer,
                            json={"decision": "reject", "comment": "race test"})
            assert r.status_code == 200, r.text

    with ThreadPoolExecutor(8) as pool:
        early = list(pool.map(look, range(16)))
        racing = [pool.submit(look, i) for i in range(24)]
        pool.submit(decide).result()
        during = [f.result() for f in racing]
        late = list(pool.map(look, range(16)))
    served = [s for s in early + during + late if s == 200]
    assert set(early) == {200} and set(late) == {404}
    assert len(views(with_crops, case["id"])) == len(served)


def test_another_operators_case_is_not_found_and_not_audited(default: Any, api_factory: Any, faces: Any,
                                                              ids: Any) -> None:
    """The operator check the routes pass in (a reviewer key sees its own operator's cases)."""
    from facekyc.api.routes.reviews import may_review
    from facekyc.registry import evidence
    from facekyc.registry.errors import NotFound

    api = client_for(default, api_factory)
    case = register(api, faces, COLIN_OTHER, COLIN_LIVE, ids.ric(8))
    assert case["decision"] == "review", case
    for deny in (lambda op: op != "op", lambda op: False):
        with pytest.raises(NotFound) as refused:
            evidence.view_image(default.registry, case["id"], "live", "apikey:other", deny)
        assert refused.value.code == "registration_not_found"
        with default.registry.sessions() as session, pytest.raises(NotFound):
            evidence.case_evidence(session, case["id"], deny)
    assert views(default, case["id"]) == []
    image = evidence.view_image(default.registry, case["id"], "live", "apikey:mine", lambda op: op == "op")
    assert image[:3] == b"\xff\xd8\xff" and len(views(default, case["id"])) == 1
    from facekyc.api.auth import Caller
    from facekyc.registry.scope import Scope

    assert may_review(Caller("k", "reviewer", Scope("op")), "op")
    assert not may_review(Caller("k", "reviewer", Scope("other")), "op")
    assert may_review(Caller("k", "reviewer", Scope(None)), "op")  # a global reviewer key
