"""Regressions for what schemathesis found fuzzing the OpenAPI document: no 500s, documented statuses only,
every error a problem with a stable code (and the headers HTTP requires)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from facekyc.storage.models import ApiKey, AuditEntry, Operator

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def dep(deploy: Callable[..., Any]) -> Any:
    return deploy()


@pytest.fixture(scope="module")
def api(dep: Any, api_factory: Any) -> Any:
    return api_factory(TestClient(dep.app, raise_server_exceptions=False), dep.admin_token)


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["code"] == code and body["status"] == status and body["type"].endswith("/" + code)
    return body


def rows(dep: Any) -> tuple[int, ...]:
    with dep.registry.sessions() as s:
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                     for m in (ApiKey, Operator, AuditEntry))


def test_offsets_beyond_a_database_integer_are_422_not_500(api: Any) -> None:
    c = api.client
    body = problem(c.get("/v1/reviews", params={"offset": 2**31}, headers=api.key("reviewer")), 422,
                   "validation_error")
    assert body["field"] == "offset"
    body = problem(c.get("/v1/audit", params={"after": 10**20}, headers=api.key("auditor")), 422, "validation_error")
    assert body["field"] == "after"
    # the largest accepted values reach the database and simply find nothing
    assert c.get("/v1/reviews", params={"offset": 2**31 - 1}, headers=api.key("reviewer")).json() == []
    assert c.get("/v1/audit", params={"after": 2**31 - 1}, headers=api.key("auditor")).json() == []


def test_unparseable_body_is_400_malformed_body_and_writes_nothing(dep: Any, api: Any) -> None:
    c, admin, clerk = api.client, api.admin, api.key("clerk")
    before = rows(dep)
    json_type = {"content-type": "application/json"}
    problem(c.post("/v1/operators", content=b"\xff\xfe{", headers={**admin, **json_type}), 400, "malformed_body")
    problem(c.post("/v1/api-keys", content=b'{"name": "\xff", "role": "admin"}', headers={**admin, **json_type}),
            400, "malformed_body")
    problem(c.post("/v1/verifications", content=b"x", headers={**clerk, "content-type": "multipart/form-data"}),
            400, "malformed_body")  # no boundary
    broken = b"--b0\r\nNone--b0--\r\n"
    problem(c.post("/v1/verifications", content=broken,
                   headers={**clerk, "content-type": "multipart/form-data; boundary=b0"}), 400, "malformed_body")
    assert rows(dep) == before


def test_every_operation_with_a_body_documents_400(api: Any) -> None:
    spec = api.client.get("/openapi.json").json()
    with_body = [(m, p, op) for p, ops in spec["paths"].items() for m, op in ops.items() if "requestBody" in op]
    assert len(with_body) >= 10
    for method, path, op in with_body:
        assert op["responses"]["400"]["content"][PROBLEM]["schema"]["$ref"].endswith("/Problem"), (method, path)


def test_malformed_json_names_the_body_not_a_character_offset(api: Any) -> None:
    r = api.client.post("/v1/operators", content=b'{"id": "op1",', headers={**api.admin, "content-type":
                                                                             "application/json"})
    body = problem(r, 422, "validation_error")
    assert body["field"] == "body" and body["fields"] == ["body"]


def test_405_names_the_allowed_methods(api: Any) -> None:
    for method, path in (("TRACE", "/healthz"), ("PUT", "/v1/operators"), ("DELETE", "/v1/reviews")):
        r = api.client.request(method, path, headers=api.admin)
        problem(r, 405, "method_not_allowed")
        assert r.headers.get("allow"), (method, path)
    assert "POST" in api.client.request("PUT", "/v1/operators", headers=api.admin).headers["allow"]
    # GET and POST /v1/api-keys are two routes: Allow names both, not just the last one tried
    allow = api.client.request("OPTIONS", "/v1/api-keys", headers=api.admin).headers["allow"]
    assert {"GET", "POST"} <= {m.strip() for m in allow.split(",")}
