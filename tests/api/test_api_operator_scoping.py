"""Issue 9, finding 4: API keys are confined to their operator, over a real uvicorn server, real faces and
a real database. Clerk B (operator "opb") probes what clerk A (operator "opa") made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from facekyc.storage.models import ApiKey, CaptureSession

COLIN_DOC, COLIN_LIVE = "Colin_Powell_0038", "Colin_Powell_0074"


@pytest.fixture(scope="module")
def served(deploy: Callable[..., Any]) -> Any:
    return deploy(serve=True)


@pytest.fixture(scope="module")
def api(served: Any, api_factory: Any) -> Any:
    client = httpx.Client(base_url=served.base_url, timeout=60)
    made = api_factory(client, served.admin_token)
    made.operator("opa", numbers=3, first=0)
    made.operator("opb", numbers=3, first=100)
    return made


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


def scoped_key(api: Any, role: str, **scope: Any) -> dict[str, str]:
    r = api.client.post("/v1/api-keys", json={"name": f"{role} {scope}", "role": role, **scope}, headers=api.admin)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_clerk_of_another_operator_cannot_see_or_use_a_capture(api: Any, served: Any, faces: Any,
                                                               ids: Any) -> None:
    clerk_b = api.key("clerk", "opb")
    capture_a = api.capture(faces(COLIN_LIVE)[1], operator="opa")
    assert api.client.get(f"/v1/capture-sessions/{capture_a}", headers=api.key("clerk", "opa")).status_code == 200
    problem(api.client.get(f"/v1/capture-sessions/{capture_a}", headers=clerk_b), 404, "session_not_found")

    # A's checked capture, registered by clerk B at operator B: the capture is invisible to B, nothing is used
    r = api.register(faces(COLIN_DOC)[0], capture_a, ids.ric(1), operator="opb")
    problem(r, 404, "session_not_found")
    # clerk B naming operator A: B may know A exists, but may not act for it
    problem(api.register(faces(COLIN_DOC)[0], capture_a, ids.ric(1), operator="opa", clerk_of="opb"), 403,
            "operator_mismatch")
    with served.registry.sessions() as session:
        row = session.get(CaptureSession, capture_a)
        assert row is not None and row.consumed_at is None and row.operator_id == "opa"
    # A itself can still use it: approved at A
    mine = api.register(faces(COLIN_DOC)[0], capture_a, ids.ric(1), operator="opa")
    assert mine.status_code == 201 and mine.json()["decision"] == "approved", mine.text

    # frames upload to A's session by clerk B: 404 before any work
    new = api.client.post("/v1/capture-sessions", headers=api.key("clerk", "opa")).json()
    r = api.client.post(f"/v1/capture-sessions/{new['id']}/frames", headers=clerk_b,
                        files=[("frames", ("f.jpg", faces(COLIN_LIVE)[1], "image/jpeg"))],
                        data={"nonce": new["nonce"], "timestamps": "[0]"})
    problem(r, 404, "session_not_found")


def test_registrations_and_lines_are_confined_to_the_operator(api: Any, faces: Any, ids: Any) -> None:
    clerk_a, clerk_b = api.key("clerk", "opa"), api.key("clerk", "opb")
    reg = api.register(faces(COLIN_DOC)[0], api.capture(faces(COLIN_LIVE)[1], operator="opa"), ids.ric(1),
                       operator="opa")
    assert reg.status_code == 201 and reg.json()["decision"] == "approved", reg.text
    reg_id, msisdn = reg.json()["id"], reg.json()["msisdn"]

    assert api.client.get(f"/v1/registrations/{reg_id}", headers=clerk_a).status_code == 200
    problem(api.client.get(f"/v1/registrations/{reg_id}", headers=clerk_b), 404, "registration_not_found")

    query = {"doc_type": "cn_ric", "document": ids.ric(1)}
    # closing A's number with B's key, even with the holder's own face at B's counter: not found, nothing closed
    r = api.client.post("/v1/closures", headers=clerk_b, json={
        **query, "msisdn": msisdn, "capture_session_id": api.capture(faces(COLIN_LIVE)[1], operator="opb")})
    problem(r, 404, "line_not_found")
    r = api.client.post("/v1/sim-replacements", headers=clerk_b, json={
        "msisdn": msisdn, "new_iccid": ids.sim(700), "capture_session_id": api.capture(faces(COLIN_LIVE)[1],
                                                                                      operator="opb")})
    problem(r, 404, "line_not_found")
    # the same person also takes a number at B; B's numbers query lists only that one
    at_b = api.register(faces(COLIN_DOC)[0], api.capture(faces(COLIN_LIVE)[1], operator="opb"), ids.ric(1),
                        operator="opb")
    assert at_b.status_code == 201 and at_b.json()["decision"] == "approved", at_b.text
    r = api.client.post("/v1/numbers-query", headers=clerk_b, json={
        **query, "capture_session_id": api.capture(faces(COLIN_LIVE)[1], operator="opb")})
    assert r.status_code == 200 and r.json()["decision"] == "approved", r.text
    assert [n["msisdn"] for n in r.json()["numbers"]] == [at_b.json()["msisdn"]], r.text
    # with A's key the query lists A's numbers only, and A's line is still active (B changed nothing)
    r = api.client.post("/v1/numbers-query", headers=clerk_a, json={
        **query, "capture_session_id": api.capture(faces(COLIN_LIVE)[1], operator="opa")})
    listed = [n["msisdn"] for n in r.json()["numbers"]]
    assert msisdn in listed and at_b.json()["msisdn"] not in listed, r.text
    assert {n["operator_id"] for n in r.json()["numbers"]} == {"opa"}
    problem(api.client.get("/v1/operators/opa", headers=clerk_b), 404, "operator_not_found")
    assert api.client.get("/v1/operators/opb", headers=clerk_b).status_code == 200


def test_reviewer_and_auditor_scopes(api: Any, faces: Any, ids: Any) -> None:
    # a second identity with the same face goes to review at operator A
    reg = api.register(faces(COLIN_DOC)[0], api.capture(faces(COLIN_LIVE)[1], operator="opa"), ids.ric(3),
                       operator="opa")
    assert reg.status_code == 201 and reg.json()["decision"] == "review", reg.text
    case = reg.json()["id"]
    reviewer_a = scoped_key(api, "reviewer", operator_id="opa")
    reviewer_b = scoped_key(api, "reviewer", operator_id="opb")
    assert case in [c["id"] for c in api.client.get("/v1/reviews", headers=reviewer_a).json()]
    assert api.client.get("/v1/reviews", headers=reviewer_b).json() == []
    problem(api.client.post(f"/v1/reviews/{case}", headers=reviewer_b, json={"decision": "reject",
                                                                                 "comment": "not mine"}),
            404, "registration_not_found")
    problem(api.client.get(f"/v1/registrations/{case}", headers=reviewer_b), 404, "registration_not_found")
    assert case in [c["id"] for c in api.client.get("/v1/reviews", headers=api.key("reviewer")).json()]  # global

    capture = reg.json()["capture_session_id"]
    problem(api.client.get(f"/v1/capture-sessions/{capture}", headers=reviewer_b), 404, "session_not_found")
    assert api.client.get(f"/v1/capture-sessions/{capture}", headers=reviewer_a).status_code == 200

    auditor_b = scoped_key(api, "auditor", operator_id="opb")
    problem(api.client.get("/v1/audit", headers=auditor_b), 403, "global_scope_required")
    problem(api.client.get("/v1/audit/checkpoint", headers=auditor_b), 403, "global_scope_required")
    problem(api.client.get(f"/v1/registrations/{case}", headers=auditor_b), 404, "registration_not_found")
    assert api.client.get(f"/v1/registrations/{case}", headers=scoped_key(api, "auditor", operator_id="opa")
                          ).status_code == 200
    checkpoint = api.client.get("/v1/audit/checkpoint", headers=api.key("auditor"))
    assert checkpoint.status_code == 200 and checkpoint.json()["seq"] > 0 and checkpoint.json()["signature"]


def test_key_creation_states_the_scope(api: Any) -> None:
    post = api.client.post
    problem(post("/v1/api-keys", json={"name": "c", "role": "clerk"}, headers=api.admin), 422, "operator_required")
    problem(post("/v1/api-keys", json={"name": "c", "role": "clerk", "global": True}, headers=api.admin), 422,
            "operator_required")
    problem(post("/v1/api-keys", json={"name": "r", "role": "reviewer"}, headers=api.admin), 422, "scope_required")
    problem(post("/v1/api-keys", json={"name": "r", "role": "auditor", "operator_id": "opa", "global": True},
                 headers=api.admin), 422, "scope_required")
    problem(post("/v1/api-keys", json={"name": "c", "role": "clerk", "operator_id": "nope"}, headers=api.admin),
            404, "operator_not_found")
    r = post("/v1/api-keys", json={"name": "till 3", "role": "clerk", "operator_id": "opa", "store": "Main St 3"},
             headers=api.admin)
    assert r.status_code == 201 and r.json()["operator_id"] == "opa" and r.json()["store"] == "Main St 3"
    me = api.client.get("/v1/me", headers={"Authorization": f"Bearer {r.json()['token']}"}).json()
    assert me["operator_id"] == "opa" and me["store"] == "Main St 3" and me["global"] is False
    entry = api.client.get("/v1/audit", params={"after": 0, "limit": 1000}, headers=api.key("auditor")).json()
    created = [e for e in entry if e["action"] == "apikey.created" and e["target"] == r.json()["id"]]
    assert created and created[0]["details"]["store"] == "Main St 3" and created[0]["details"]["operator"] == "opa"


def test_clerk_key_from_before_scoping_may_not_act_until_assigned(api: Any, served: Any) -> None:
    """Migration 0002 leaves old clerk keys without an operator: 403 key_not_scoped, never another's data."""
    r = api.client.post("/v1/api-keys", json={"name": "old till", "role": "clerk", "operator_id": "opa"},
                        headers=api.admin)
    assert r.status_code == 201, r.text
    old = {"Authorization": f"Bearer {r.json()['token']}"}
    with served.registry.sessions() as session, session.begin():
        key = session.get(ApiKey, r.json()["id"])
        assert key is not None
        key.operator_id = None  # what an 0001 clerk key looks like after the upgrade
    assert api.client.get("/v1/me", headers=old).status_code == 200
    problem(api.client.post("/v1/capture-sessions", headers=old), 403, "key_not_scoped")
    problem(api.client.post("/v1/numbers-query", headers=old, json={
        "doc_type": "cn_ric", "document": "11010519491231002X", "capture_session_id": "cap_x"}), 403,
        "key_not_scoped")
