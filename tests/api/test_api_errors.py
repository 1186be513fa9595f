"""Errors are RFC 9457 problems with stable codes, every route checks its role, bad input writes nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from facekyc.api import create_app
from facekyc.config import Settings
from facekyc.registry.service import ConfigurationError
from facekyc.storage import migrate
from facekyc.storage.models import AuditEntry, CaptureSession, Registration, Subscriber, utcnow
from facekyc.vision.image import encode_jpeg

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def dep(deploy: Callable[..., Any]) -> Any:
    return deploy(max_upload_bytes=200_000)


@pytest.fixture(scope="module")
def api(dep: Any, api_factory: Any) -> Any:
    api = api_factory(TestClient(dep.app, raise_server_exceptions=False), dep.admin_token)
    api.operator("op", numbers=5)
    return api


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["code"] == code and body["status"] == status
    assert body["type"].endswith("/" + code) and body["title"] and body["detail"]
    return body


def counts(dep: Any) -> tuple[int, ...]:
    with dep.registry.sessions() as s:
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                     for m in (Registration, Subscriber, AuditEntry))


def test_authentication_and_roles(api: Any) -> None:
    c = api.client
    problem(c.post("/v1/capture-sessions"), 401, "unauthorized")
    # no key: 401 before anything about the body (even a wrong media type) is said
    problem(c.post("/v1/registrations", content=b"x", headers={"content-type": "text/plain"}), 401, "unauthorized")
    problem(c.post("/v1/api-keys", content=b"{"), 401, "unauthorized")
    problem(c.post("/v1/capture-sessions", headers={"Authorization": "Bearer fk_nope"}), 401, "unauthorized")
    problem(c.post("/v1/capture-sessions", headers=api.key("reviewer")), 403, "wrong_role")
    problem(c.get("/v1/reviews", headers=api.key("clerk")), 403, "wrong_role")
    problem(c.get("/v1/audit", headers=api.key("clerk")), 403, "wrong_role")
    problem(c.post("/v1/api-keys", json={"name": "x", "role": "admin"}, headers=api.key("auditor")), 403,
            "wrong_role")
    assert c.post("/v1/capture-sessions", headers={"X-API-Key": api.key("clerk")["Authorization"][7:]}
                  ).status_code == 201
    problem(c.get("/v1/nowhere"), 404, "not_found")


def test_every_openapi_operation_documents_its_errors(api: Any) -> None:
    spec = api.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"Problem", "RegistrationView", "CaptureSessionView", "FaceCheckView"} <= set(schemas)
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if path in ("/healthz", "/metrics"):
                continue
            errors = {s for s in op["responses"] if s.startswith(("4", "5"))}
            assert errors, (method, path)
            for status in errors:
                content = op["responses"][status]["content"]
                assert content[PROBLEM]["schema"]["$ref"].endswith("/Problem"), (method, path, status)
            assert "200" in op["responses"] or "201" in op["responses"]
            if method == "post" and "requestBody" in op:
                assert op["requestBody"]["content"], (method, path)
    text = str(spec)
    for ref in set(part.split("'")[0] for part in text.split("#/components/schemas/")[1:]):
        assert ref in schemas, ref


def test_api_docs_are_served_without_a_cdn(api: Any) -> None:
    import re

    for page in ("/docs", "/redoc"):
        html = api.client.get(page).text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
        assert assets, page
        assert not [a for a in assets if a.startswith(("http://", "https://", "//"))], (page, assets)
        for asset in assets:
            assert api.client.get(asset).status_code == 200, asset


def test_bad_input_is_4xx_and_writes_nothing(dep: Any, api: Any, ids: Any, faces: Any) -> None:
    c, clerk = api.client, api.key("clerk")
    capture = api.capture(faces("Colin_Powell_0074")[1])
    before = counts(dep)
    good = {"operator_id": "op", "doc_type": "cn_ric", "document": ids.ric(20), "capture_session_id": capture,
            "iccid": ids.sim(20), "consent_version": "v1", "consent_at": "2026-01-05T10:00:00Z"}
    photo = {"document_photo": ("d.jpg", faces("Colin_Powell_0038")[0], "image/jpeg")}

    bad_number = ids.ric(20)[:-1] + ("0" if ids.ric(20)[-1] != "0" else "1")
    body = problem(c.post("/v1/registrations", headers=clerk, data={**good, "document": bad_number}, files=photo),
                   422, "document_invalid")
    assert body["field"] == "number" and "bad_checksum" in body["detail"] and bad_number not in body["detail"]
    mrz = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<11"
    body = problem(c.post("/v1/registrations", headers=clerk, data={**good, "doc_type": "passport_mrz",
                                                                    "document": mrz}, files=photo),
                   422, "document_invalid")
    assert body["fields"] and body["field"] == body["fields"][0]
    problem(c.post("/v1/registrations", headers=clerk, data={**good, "doc_type": "library_card"}, files=photo),
            422, "document_invalid")
    body = problem(c.post("/v1/registrations", headers=clerk, data={**good, "iccid": ids.sim(20)[:-1] + "x"},
                          files=photo), 422, "iccid_invalid")
    assert body["field"] == "iccid"
    problem(c.post("/v1/registrations", headers=clerk, data=good,
                   files={"document_photo": ("d.jpg", b"\xff\xd8\xffnot really a jpeg", "image/jpeg")}),
            422, "image_unreadable")
    blank = encode_jpeg(np.full((240, 240, 3), 120, np.uint8))
    body = problem(c.post("/v1/registrations", headers=clerk, data=good,
                          files={"document_photo": ("d.jpg", blank, "image/jpeg")}), 422, "no_face")
    assert body["field"] == "document_photo"
    problem(c.post("/v1/registrations", headers=clerk, data=good,
                   files={"document_photo": ("d.txt", b"hello", "text/plain")}), 415, "unsupported_media_type")
    problem(c.post("/v1/registrations", headers=clerk, data=good,
                   files={"document_photo": ("d.jpg", b"\xff" * 250_000, "image/jpeg")}), 413, "upload_too_large")
    problem(c.post("/v1/registrations", headers=clerk, json=good), 415, "unsupported_media_type")
    body = problem(c.post("/v1/registrations", headers=clerk, data={k: v for k, v in good.items() if k != "iccid"},
                          files=photo), 422, "validation_error")
    assert body["fields"] == ["iccid"]
    problem(c.post("/v1/registrations", headers=clerk, data={**good, "operator_id": "nope"}, files=photo),
            403, "operator_mismatch")  # a clerk key acts for its own operator only
    problem(c.post("/v1/api-keys", headers=api.admin, content=b"{", ), 415, "unsupported_media_type")
    problem(c.post("/v1/api-keys", headers={**api.admin, "content-type": "application/json"}, content=b"{"),
            422, "validation_error")
    problem(c.post("/v1/operators/op/numbers", headers=api.admin, json={"msisdns": ["+8613900000001", "12"]}),
            422, "msisdn_invalid")
    assert counts(dep)[:2] == before[:2]
    assert counts(dep)[2] == before[2]  # not even an audit entry

    # the capture session is still usable after all that: nothing consumed it
    r = api.client.post("/v1/registrations", headers=clerk, data=good, files=photo)
    assert r.status_code == 201 and r.json()["decision"] == "approved", r.text
    problem(api.client.post("/v1/registrations", headers=clerk, data={**good, "iccid": ids.sim(21)}, files=photo),
            409, "session_used")
    problem(api.client.post("/v1/registrations", headers=clerk, data={**good,
                                                                      "capture_session_id": api.capture(
                                                                          faces("Colin_Powell_0074")[1])},
                            files=photo), 409, "iccid_in_use")


def test_capture_session_rules(dep: Any, api: Any, faces: Any, ids: Any) -> None:
    c, clerk = api.client, api.key("clerk")
    jpeg = faces("Colin_Powell_0074")[1]
    created = c.post("/v1/capture-sessions", headers=clerk).json()
    assert 2 <= len(created["challenge"]) <= 3 and len(set(created["challenge"])) == len(created["challenge"])
    url = f"/v1/capture-sessions/{created['id']}/frames"
    frames = [("frames", ("a.jpg", jpeg, "image/jpeg"))]
    problem(c.post(url, headers=clerk, data={"nonce": "x" * 32, "timestamps": "[0]"}, files=frames), 403,
            "nonce_mismatch")
    problem(c.post(url, headers=clerk, data={"nonce": created["nonce"], "timestamps": "[0, 1]"}, files=frames),
            422, "invalid_timestamps")
    problem(c.post(url, headers=clerk, data={"nonce": created["nonce"]},
                   files=[("video", ("v.avi", b"RIFF", "video/x-msvideo"))]), 415, "unsupported_media_type")
    # unchecked capture cannot be used
    problem(api.register(faces("Colin_Powell_0038")[0], created["id"], ids.ric(30)), 409, "capture_incomplete")
    ok = c.post(url, headers=clerk, data={"nonce": created["nonce"], "timestamps": "[0]"}, files=frames)
    assert ok.status_code == 200 and ok.json()["liveness"]["decision"] == "live"
    assert ok.json()["quality"]["passed"] is True
    problem(c.post(url, headers=clerk, data={"nonce": created["nonce"], "timestamps": "[0]"}, files=frames), 409,
            "session_used")
    got = c.get(f"/v1/capture-sessions/{created['id']}", headers=clerk).json()
    assert got["status"] == "checked" and got["used"] is False
    problem(c.get("/v1/capture-sessions/cap_nope", headers=clerk), 404, "session_not_found")

    late = c.post("/v1/capture-sessions", headers=clerk).json()
    with dep.registry.sessions() as s, s.begin():
        s.execute(update(CaptureSession).where(CaptureSession.id == late["id"])
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    problem(c.post(f"/v1/capture-sessions/{late['id']}/frames", headers=clerk,
                   data={"nonce": late["nonce"], "timestamps": "[0]"}, files=frames), 410, "session_expired")

    # a capture that failed liveness: the registration is rejected with liveness_failed
    not_live = api.capture(jpeg, t0=666.0)
    r = api.register(faces("Colin_Powell_0038")[0], not_live, ids.ric(31))
    assert r.status_code == 201 and r.json()["decision"] == "rejected" and r.json()["reasons"] == ["liveness_failed"]
    assert r.json()["rules"][0]["detail"]["liveness_reasons"] == ["planar_motion"]


def test_stateless_verification_stores_nothing(dep: Any, api: Any, faces: Any) -> None:
    clerk = api.key("clerk")  # made before counting: making it (and its operator) writes audit entries
    before = counts(dep)
    r = api.client.post("/v1/verifications", headers=clerk,
                        files={"document_photo": ("a.jpg", faces("Tony_Blair_0006")[0], "image/jpeg"),
                               "live_photo": ("b.jpg", faces("Tony_Blair_0094")[1], "image/jpeg")})
    assert r.status_code == 200 and r.json()["decision"] == "match", r.text
    after = counts(dep)
    assert after[:2] == before[:2] and after[2] == before[2] + 1
    with dep.registry.sessions() as s:
        entry = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
    assert entry is not None and entry.action == "verification.performed"
    details = __import__("json").loads(entry.details)
    assert set(details) == {"decision", "score", "fmr_target", "quality_passed", "operator", "store"}
    assert details["operator"] == "op"  # the clerk key's operator


def test_rate_limit_per_key(deploy: Callable[..., Any], api_factory: Any) -> None:
    small = deploy(rate_limit_per_minute=3)
    client = TestClient(small.app)
    headers = {"Authorization": f"Bearer {small.admin_token}"}
    for _ in range(3):
        assert client.get("/v1/api-keys", headers=headers).status_code == 200
    body = problem(client.get("/v1/api-keys", headers=headers), 429, "rate_limited")
    assert body["detail"]
    assert int(client.get("/v1/api-keys", headers=headers).headers["retry-after"]) >= 1


def test_fixed_challenge_needs_test_mode(deploy: Callable[..., Any], engine: Any, tmp_path: Any,
                                         caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ConfigurationError, match="test"):
        create_app(Settings(data_dir=tmp_path, test_fixed_challenge="turn_left,blink"), engine)
    with caplog.at_level(logging.WARNING, logger="facekyc"):
        fixed = deploy(test_mode=True, test_fixed_challenge="turn_left,blink")
        client = TestClient(fixed.app)
        key = {"Authorization": f"Bearer {fixed.admin_token}"}
        client.post("/v1/operators", json={"id": "op", "name": "OP", "country": "CN"}, headers=key)
        token = client.post("/v1/api-keys", json={"name": "c", "role": "clerk", "operator_id": "op"},
                            headers=key).json()["token"]
        body = client.post("/v1/capture-sessions", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["challenge"] == ["turn_left", "blink"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "TEST MODE" in r.getMessage()]
    assert len(warnings) >= 2  # at start and for the session


def test_health_ready_metrics(api: Any) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["schema_revision"] == migrate.head_revision()
    metrics = api.client.get("/metrics")
    assert metrics.status_code == 200 and "facekyc_http_request_duration_seconds" in metrics.text
