"""The pages and their assets as served (no browser): types, security headers, nothing external,
no HTML injection sinks; the capture-session fields the kiosk relies on; the fixed-challenge guard."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facekyc.api import create_app
from facekyc.config import Settings
from facekyc.registry.service import ConfigurationError, Registry, check_settings
from facekyc.web import WEB_DIR

WEB_FILES = sorted(p for p in WEB_DIR.rglob("*") if p.is_file() and p.suffix in {".html", ".js", ".css", ".svg"})
JS_FILES = [p for p in WEB_FILES if p.suffix == ".js"]
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@pytest.fixture(scope="module")
def client(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("pages"), capture_step_ms=2500)
    app = create_app(settings, engine)
    registry: Registry = app.state.registry
    token = registry.ensure_admin_key()
    assert token is not None
    with TestClient(app) as test_client:
        yield test_client, token
    registry.close()


def referenced_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


@pytest.mark.parametrize(("path", "script"), [("/kiosk", "/static/js/kiosk.js"), ("/review", "/static/js/review.js")])
def test_page_is_served_with_strict_headers(client: tuple[TestClient, str], path: str, script: str) -> None:
    r = client[0].get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "camera=(self)" in r.headers["permissions-policy"]
    assert f'<script type="module" src="{script}"></script>' in r.text
    assert path not in client[0].get("/openapi.json").json()["paths"]


def test_every_asset_and_module_import_resolves_with_its_type(client: tuple[TestClient, str]) -> None:
    wanted = {a for page in ("/kiosk", "/review") for a in referenced_assets(client[0].get(page).text)}
    for js in JS_FILES:
        for name in re.findall(r'^import .* from "\./([\w.-]+)";', js.read_text(), flags=re.M):
            assert (js.parent / name).is_file(), f"{js.name} imports a missing module {name}"
            wanted.add(f"/static/js/{name}")
    assert {"/static/js/kiosk.js", "/static/js/review.js", "/static/css/app.css"} <= wanted
    for asset in sorted(wanted):
        r = client[0].get(asset)
        assert r.status_code == 200, asset
        assert r.headers["content-type"].split(";")[0] == TYPES[Path(asset).suffix], asset
        assert r.headers["x-content-type-options"] == "nosniff"


def test_root_leads_to_the_kiosk_and_unknown_assets_are_404(client: tuple[TestClient, str]) -> None:
    r = client[0].get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/kiosk"
    assert client[0].get("/static/js/nope.js").status_code == 404
    assert client[0].get("/static/../__init__.py").status_code == 404


@pytest.mark.parametrize("path", WEB_FILES, ids=lambda p: p.name)
def test_nothing_is_loaded_from_elsewhere(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    text = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?://|(?:src|href)=\"//|url\(\s*['\"]?(?:https?:)?//|import\s*\(", text), path
    if path.suffix == ".html":
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline script (blocked by the CSP)"
        assert not re.search(r"\sstyle=|\son[a-z]+=", text), "inline style or handler (blocked by the CSP)"


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: p.name)
def test_modules_write_data_as_text_only(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "localStorage.setItem(\"facekyc.apiKey"):
        assert sink not in text, f"{path.name} uses {sink}"
    if path.name == "api.js":
        assert "sessionStorage" in text and "localStorage" not in text  # the key lives in the tab only


def test_capture_session_tells_the_kiosk_how_long_to_prompt(client: tuple[TestClient, str]) -> None:
    test_client, admin = client
    test_client.post("/v1/operators", json={"id": "op", "name": "OP", "country": "CN"},
                     headers={"Authorization": f"Bearer {admin}"})
    r = test_client.post("/v1/api-keys", json={"name": "kiosk", "role": "clerk", "operator_id": "op"},
                         headers={"Authorization": f"Bearer {admin}"})
    clerk = {"Authorization": f"Bearer {r.json()['token']}"}
    me = test_client.get("/v1/me", headers=clerk)
    assert me.status_code == 200 and me.json()["role"] == "clerk" and me.json()["name"] == "kiosk"
    assert "token" not in me.json()
    assert test_client.get("/v1/me").status_code == 401
    created = test_client.post("/v1/capture-sessions", headers=clerk)
    assert created.status_code == 201
    assert created.json()["step_ms"] == 2500
    assert 2 <= len(created.json()["challenge"]) <= 3


def test_fixed_challenge_is_refused_without_test_mode(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, test_fixed_challenge="turn_left,turn_right", test_mode=False)
    with pytest.raises(ConfigurationError, match="FACEKYC_TEST_MODE"):
        check_settings(settings)
    with pytest.raises(ConfigurationError):
        create_app(settings, engine=object())  # type: ignore[arg-type]  # refused before the engine is used


def test_fixed_challenge_in_test_mode_is_logged_loudly_and_used(engine: Any, tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=tmp_path, test_fixed_challenge="turn_left,turn_right", test_mode=True)
    with caplog.at_level(logging.WARNING):
        app = create_app(settings, engine)
    assert any(r.levelno >= logging.WARNING and "TEST MODE" in r.getMessage() for r in caplog.records)
    registry: Registry = app.state.registry
    token = registry.ensure_admin_key()
    try:
        with TestClient(app) as test_client:
            admin = {"Authorization": f"Bearer {token}"}
            test_client.post("/v1/operators", json={"id": "op", "name": "OP", "country": "CN"}, headers=admin)
            clerk_token = test_client.post("/v1/api-keys", json={"name": "k", "role": "clerk", "operator_id": "op"},
                                           headers=admin).json()
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                r = test_client.post("/v1/capture-sessions",
                                     headers={"Authorization": f"Bearer {clerk_token['token']}"})
            assert r.json()["challenge"] == ["turn_left", "turn_right"]
            assert any("TEST MODE" in rec.getMessage() for rec in caplog.records)
    finally:
        registry.close()


def test_fixed_challenge_must_name_real_steps(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="test_fixed_challenge"):
        check_settings(Settings(data_dir=tmp_path, test_fixed_challenge="turn_left,wiggle", test_mode=True))
