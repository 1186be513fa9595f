"""Issue 9 findings 1-3 as regression tests, and the hostile-input suite, against a REAL uvicorn server:
concurrent odd images, mismatched frame bursts, images too wide for OpenCV, nested JSON, a 500 on a
keep-alive connection, chunked uploads past the limit, the pixel budget of every detector, 503 busy."""

from __future__ import annotations

import collections
import http.client
import json
import select
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from hostile_corpus import HOSTILE_TEXT, UPLOAD_ENDPOINTS, Upload, broken_files, odd_images
from idnumbers import iccid, ric_number
from typer.testing import CliRunner

from facekyc.api.middleware import FACE_WORK_ROUTES
from facekyc.vision.detect import DETECT_MAX_SIDE, DlibDetector, YuNetDetector
from facekyc.vision.image import MAX_SIDE, encode_jpeg

LIMIT = 3_000_000
FACE = "Colin_Powell/Colin_Powell_0038.jpg"
STABLE_CODES = {  # client-error codes a hostile request may earn; never internal_error or model_unavailable
    "no_face", "image_unreadable", "image_too_large", "face_too_small", "multiple_faces", "upload_too_large",
    "unsupported_media_type", "validation_error", "malformed_body", "invalid_timestamps", "inconsistent_frame_sizes",
    "video_unreadable", "video_too_large", "video_too_long", "too_many_frames", "no_frames", "ambiguous_upload",
    "session_not_found", "session_used", "session_expired", "capture_incomplete", "nonce_mismatch",
    "document_invalid", "iccid_invalid", "msisdn_invalid", "operator_not_found", "invalid_input", "not_found",
    "invalid_text", "operator_mismatch"}


@pytest.fixture(scope="module")
def server(deploy: Callable[..., Any]) -> Any:
    """A real uvicorn server with the real liveness check and room for the suite's concurrency."""
    dep = deploy(serve=True, liveness=None, max_upload_bytes=LIMIT, rate_limit_per_minute=1_000_000,
                 face_work_slots=16)
    with httpx.Client(base_url=dep.base_url, timeout=120) as admin:
        auth = {"Authorization": f"Bearer {dep.admin_token}"}
        r = admin.post("/v1/operators", json={"id": "op", "name": "OP", "country": "CN"}, headers=auth)
        assert r.status_code == 201, r.text
        r = admin.post("/v1/api-keys", json={"name": "hostile clerk", "role": "clerk", "operator_id": "op"},
                       headers=auth)
        assert r.status_code == 201, r.text
        dep.clerk = {"Authorization": f"Bearer {r.json()['token']}"}
    return dep


@pytest.fixture(scope="module")
def face_jpeg(lfw_images: Path) -> bytes:
    path = lfw_images / FACE
    if not path.is_file():
        pytest.skip(f"{path} is missing from the test data")
    return path.read_bytes()


def send(server: Any, endpoint: str, upload: Upload, good: bytes, *, text: dict[str, str] | None = None,
         timeout: float = 120) -> httpx.Response:
    """One request putting `upload` in the file field of `endpoint` (others filled with good values)."""
    part = (upload.name, upload.data, upload.content_type) if upload.content_type else (upload.name, upload.data)
    with httpx.Client(base_url=server.base_url, headers=server.clerk, timeout=timeout) as client:
        if endpoint == "document-photo-checks":
            return client.post("/v1/document-photo-checks", files={"photo": part})
        if endpoint == "verifications":
            return client.post("/v1/verifications", files={"document_photo": part,
                                                           "live_photo": ("live.jpg", good, "image/jpeg")})
        if endpoint == "registrations":
            fields = {"operator_id": "op", "doc_type": "cn_ric", "document": ric_number(7), "iccid": iccid(7),
                      "capture_session_id": "cap_000000000000000000000000", "consent_version": "v1",
                      "consent_at": "2026-01-05T10:00:00Z", "name": "Test Person", **(text or {})}
            return client.post("/v1/registrations", data=fields, files={"document_photo": part})
        session = client.post("/v1/capture-sessions").json()
        if endpoint == "capture-video":
            return client.post(f"/v1/capture-sessions/{session['id']}/frames", data={"nonce": session["nonce"]},
                               files={"video": (upload.name, upload.data, upload.content_type or "video/webm")})
        fields = {"nonce": session["nonce"], "timestamps": "[0, 100, 200]", **(text or {})}
        return client.post(f"/v1/capture-sessions/{session['id']}/frames", data=fields,
                           files=[("frames", part)] * 3)


def assert_problem(r: httpx.Response, *statuses: int) -> str:
    """A 4xx problem+json with a stable code (or one of `statuses`); returns the code."""
    assert 400 <= r.status_code < 500 or r.status_code in statuses, (r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), r.text[:300]
        code = str(r.json()["code"])
        assert code in STABLE_CODES, r.text[:300]
        return code
    return str(r.status_code)


def alive(server: Any) -> bool:
    try:
        return httpx.get(server.base_url + "/healthz", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


# ---- finding 1: concurrent odd images -------------------------------------------------------------

def test_finding1_concurrent_faceless_and_odd_images_do_not_crash_the_server(server: Any, face_jpeg: bytes) -> None:
    """Before the fix, two faceless photos at once ran dlib's HOG detector concurrently: segfault."""
    odd = odd_images()
    black, grey = odd[0], odd[1]
    jobs = [(endpoint, upload) for _ in range(4) for endpoint in ("document-photo-checks", "verifications")
            for upload in (black, grey, black, grey)]
    jobs += [(endpoint, upload) for endpoint in UPLOAD_ENDPOINTS[:4] for upload in odd]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda job: send(server, job[0], job[1], face_jpeg), jobs))
    codes = collections.Counter(assert_problem(r, 200) for r in answers)
    assert alive(server)
    assert codes["no_face"] >= 32 and codes["image_too_large"] >= 6, codes  # the faceless ones really ran


# ---- finding 2: inputs that made 500s -------------------------------------------------------------

def test_finding2_a_burst_with_frames_of_different_sizes_is_422(server: Any, face_jpeg: bytes) -> None:
    """11 frames 368x656 + one 250x250 reached parallax tracking and raised cv2.error."""
    pixels = cv2.imdecode(np.frombuffer(face_jpeg, np.uint8), cv2.IMREAD_COLOR)
    tall = encode_jpeg(cv2.resize(pixels, (368, 656)))
    with httpx.Client(base_url=server.base_url, headers=server.clerk, timeout=120) as client:
        session = client.post("/v1/capture-sessions").json()
        files = [("frames", (f"f{i}.jpg", tall, "image/jpeg")) for i in range(11)]
        files.append(("frames", ("odd.jpg", face_jpeg, "image/jpeg")))
        stamps = json.dumps([i * 100 for i in range(12)])
        r = client.post(f"/v1/capture-sessions/{session['id']}/frames", files=files,
                        data={"nonce": session["nonce"], "timestamps": stamps})
        assert assert_problem(r) == "inconsistent_frame_sizes" and r.json()["field"] == "frames"
        assert client.get(f"/v1/capture-sessions/{session['id']}").json()["status"] == "open"  # nothing written


@pytest.fixture(scope="module")
def too_wide(face_jpeg: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """33000x1200 grey canvas with a real face: wider than cv2.warpAffine accepts (SHRT_MAX)."""
    face = cv2.imdecode(np.frombuffer(face_jpeg, np.uint8), cv2.IMREAD_COLOR)
    canvas = np.full((1200, 33_000, 3), 128, np.uint8)
    canvas[400:650, 16_000:16_250] = face
    path = tmp_path_factory.mktemp("wide") / "wide.jpg"
    assert cv2.imwrite(str(path), canvas)
    return path


def test_finding2_an_image_wider_than_opencv_supports_is_refused_before_decoding(
        server: Any, face_jpeg: bytes, too_wide: Path) -> None:
    wide = Upload("wide.jpg", too_wide.read_bytes())
    assert len(wide.data) < LIMIT and MAX_SIDE < 33_000
    for endpoint in ("document-photo-checks", "verifications", "registrations"):
        r = send(server, endpoint, wide, face_jpeg)
        assert assert_problem(r) == "image_too_large" and r.status_code == 413, endpoint


def test_finding2_compare_cli_exits_2_with_the_code_for_a_too_wide_image(too_wide: Path, lfw_images: Path) -> None:
    from facekyc.cli import app

    result = CliRunner().invoke(app, ["compare", str(too_wide), str(lfw_images / FACE), "--json"])
    assert result.exit_code == 2, result.output
    assert "image_too_large" in result.output and "Traceback" not in result.output


def test_finding2_deeply_nested_timestamps_are_422_not_recursion(server: Any, face_jpeg: bytes) -> None:
    nested = "[" * 10_000 + "]" * 10_000
    for stamps in (nested, "[[0], [100], [200]]", '{"a": [0, 100, 200]}'):
        r = send(server, "capture-frames", Upload("f.jpg", face_jpeg), face_jpeg, text={"timestamps": stamps})
        assert assert_problem(r) in ("invalid_timestamps", "validation_error"), stamps[:20]
    assert alive(server)


def test_finding2_the_keep_alive_connection_survives_a_500(server: Any) -> None:
    """Starlette re-raised after its 500 and uvicorn then closed the connection: the next request failed."""
    def boom() -> None:
        raise RuntimeError("deliberate failure for the test")

    if not any(getattr(r, "path", "") == "/test-only/boom" for r in server.app.router.routes):
        server.app.add_api_route("/test-only/boom", boom, methods=["GET"])
    host, port = server.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", "/test-only/boom")
        first = conn.getresponse()
        body = json.loads(first.read())
        assert first.status == 500 and body["code"] == "internal_error"
        assert first.getheader("content-type", "").startswith("application/problem+json")
        sock = conn.sock
        conn.request("GET", "/healthz")  # same socket: http.client does not reconnect an open connection
        second = conn.getresponse()
        second.read()
        assert second.status == 200 and conn.sock is sock
    finally:
        conn.close()


# ---- finding 3: bounded work ----------------------------------------------------------------------

def test_finding3_a_chunked_upload_is_refused_after_about_the_limit(server: Any) -> None:
    """Without Content-Length the body was spooled whole (1 GB to disk) before the 413."""
    host, port = server.base_url.removeprefix("http://").split(":")
    token = server.clerk["Authorization"]
    total = 300 * 1024 * 1024
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        sock.sendall((f"POST /v1/document-photo-checks HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\n"
                      "Content-Type: multipart/form-data; boundary=xx\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
        part = b'--xx\r\nContent-Disposition: form-data; name="photo"; filename="z.jpg"\r\n' \
               b"Content-Type: image/jpeg\r\n\r\n"
        sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        chunk = bytes(64 * 1024)
        framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered
            try:
                sock.sendall(framed)
            except OSError:
                break  # the server closed the connection after answering
            sent += len(chunk)
        head = b""
        while b"}" not in head:  # headers and body may come in separate segments
            more = sock.recv(65536)
            if not more:
                break
            head += more
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b"upload_too_large" in head and b"application/problem+json" in head
    assert sent < LIMIT + 32 * 1024 * 1024, sent  # the limit plus what socket buffers hold, not 300 MB
    assert alive(server)


class Recorder:
    """Wraps a native detector object and records the shape of every image handed to it."""

    def __init__(self, inner: Any, method: str) -> None:
        self.inner, self.method, self.shapes = inner, method, []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name != self.method:
            return target

        def recorded(image: np.ndarray, *args: Any) -> Any:
            self.shapes.append((image.shape, args))
            return target(image, *args)

        return recorded


def test_finding3_every_detector_works_within_the_pixel_budget_and_never_upsamples_large_images() -> None:
    """A 6000x6000 faceless JPEG made dlib's fallback run at full size, upsampled: ~1 GB and 22 s."""
    big = np.full((6000, 6000, 3), 90, np.uint8)
    small = np.full((300, 300, 3), 90, np.uint8)
    yunet, dlib_detector = YuNetDetector(), DlibDetector()
    yunet._net = Recorder(yunet._net, "detect")
    dlib_detector._detector = Recorder(dlib_detector._detector, "run")
    for image in (big, small):
        assert yunet.detect(image) == [] and dlib_detector.detect(image) == []
    (big_y, _), (small_y, _) = yunet._net.shapes
    (big_d, big_args), (small_d, small_args) = dlib_detector._detector.shapes
    assert max(big_y[:2]) == DETECT_MAX_SIDE and max(big_d[:2]) == DETECT_MAX_SIDE and big_args[0] == 0
    assert small_d[:2] == (300, 300) and small_args[0] == 1 and small_y[:2] == (300, 300)


# ---- backpressure ---------------------------------------------------------------------------------

def test_busy_is_503_with_retry_after_when_every_face_work_slot_is_taken(deploy: Callable[..., Any],
                                                                          face_jpeg: bytes) -> None:
    dep = deploy(serve=True, face_work_slots=1, busy_retry_after_s=3)
    auth = {"Authorization": f"Bearer {dep.admin_token}"}
    host, port = dep.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as slow:  # holds the only slot, body unsent
        slow.sendall((f"POST /v1/document-photo-checks HTTP/1.1\r\nHost: {host}\r\nAuthorization: "
                      f"{auth['Authorization']}\r\nContent-Type: multipart/form-data; boundary=xx\r\n"
                      "Content-Length: 100000\r\n\r\n--xx\r\n").encode())
        deadline = time.monotonic() + 10
        while True:
            r = httpx.post(dep.base_url + "/v1/verifications", headers=auth, timeout=30,
                           files={"document_photo": ("a.jpg", face_jpeg, "image/jpeg"),
                                  "live_photo": ("b.jpg", face_jpeg, "image/jpeg")})
            if r.status_code == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.05)  # the slow request may not have reached the gate yet
        assert r.status_code == 503 and r.headers["retry-after"] == "3", r.text
        assert r.headers["content-type"].startswith("application/problem+json") and r.json()["code"] == "busy"
        assert httpx.get(dep.base_url + "/healthz", timeout=10).status_code == 200  # other routes are not gated
    deadline = time.monotonic() + 10
    while True:  # the slot is released when the slow client goes away
        r = httpx.post(dep.base_url + "/v1/document-photo-checks", headers=auth, timeout=30,
                       files={"photo": ("a.jpg", face_jpeg, "image/jpeg")})
        if r.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.status_code == 403 or r.status_code == 200, r.text  # admin is not a clerk: 403, but no longer busy


def test_a_client_that_waits_for_each_answer_never_finds_the_slots_busy(deploy: Callable[..., Any],
                                                                          face_jpeg: bytes) -> None:
    """A kiosk sends its next request as soon as it has the answer: the slot must be free by then (it was
    released only after the response went out, so back-to-back requests at full concurrency got 503)."""
    dep = deploy(serve=True, face_work_slots=2, rate_limit_per_minute=1_000_000)
    auth = {"Authorization": f"Bearer {dep.admin_token}"}
    files = {"photo": ("a.jpg", face_jpeg, "image/jpeg")}

    def kiosk(_: int) -> list[int]:
        with httpx.Client(base_url=dep.base_url, timeout=30) as client:  # keep-alive, like a browser
            return [client.post("/v1/document-photo-checks", headers=auth, files=files).status_code
                    for _ in range(60)]

    with ThreadPoolExecutor(2) as pool:  # as many kiosks as slots
        codes = [c for batch in pool.map(kiosk, range(2)) for c in batch]
    assert codes.count(503) == 0, f"{codes.count(503)} of {len(codes)} answered busy"
    assert set(codes) == {403}  # admin is not a clerk: answered, never busy


def test_busy_is_documented_on_every_gated_operation_and_the_gate_names_real_routes(server: Any) -> None:
    spec = httpx.get(server.base_url + "/openapi.json", timeout=30).json()
    for method, template in FACE_WORK_ROUTES:
        op = spec["paths"][template][method.lower()]
        assert "Retry-After" in op["responses"]["503"]["headers"], template
        assert "busy" in op["responses"]["503"]["description"]


# ---- the hostile-input suite ----------------------------------------------------------------------

def hostile_json_and_paths(server: Any) -> list[httpx.Response]:
    """Deeply nested, oversized and NUL-carrying JSON to every JSON operation a clerk can call, and NUL in
    a path and a query (PostgreSQL refuses NUL in text: these were 500s there)."""
    bodies = ["[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000,
              '{"doc_type": "cn_ric", "document": "' + "9" * 100_000 + '"}',
              '{"doc_type": "cn_ric", "document": "x", "capture_session_id": "a\\u0000b", "msisdn": "1"}']
    with httpx.Client(base_url=server.base_url, headers=server.clerk, timeout=60) as client:
        answers = [client.post(path, content=body, headers={"Content-Type": "application/json"})
                   for body in bodies for path in ("/v1/numbers-query", "/v1/closures", "/v1/sim-replacements")]
        answers += [client.get("/v1/capture-sessions/cap_a%00b"), client.get("/v1/registrations/r%00"),
                    client.get("/v1/capture-sessions/x", params={"q": "a\x00b"})]
    assert [r.json()["code"] for r in answers[-3:-1]] == ["invalid_text", "invalid_text"]
    return answers


def test_hostile_corpus_at_every_upload_endpoint_gives_no_5xx_and_a_live_server(
        server: Any, face_jpeg: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    face = cv2.imdecode(np.frombuffer(face_jpeg, np.uint8), cv2.IMREAD_COLOR)
    corpus = [*odd_images(), *broken_files(face_jpeg, LIMIT), Upload("two_faces", encode_jpeg(np.hstack([face, face])))]
    webm = Upload("junk.webm", b"\x1a\x45\xdf\xa3" + bytes(2000), "video/webm")
    mp4 = Upload("junk.mp4", bytes(4) + b"ftypisom" + np.random.default_rng(3).bytes(3000), "video/mp4")
    jobs: list[tuple[str, Upload, dict[str, str] | None]] = [
        (endpoint, upload, None) for endpoint in UPLOAD_ENDPOINTS[:4] for upload in corpus]
    jobs += [("capture-video", upload, None) for upload in (*corpus[:8], webm, mp4)]
    good = Upload("face.jpg", face_jpeg)
    for value in HOSTILE_TEXT:
        for field in ("operator_id", "doc_type", "document", "capture_session_id", "iccid", "consent_version",
                      "consent_at", "name"):
            jobs.append(("registrations", good, {field: value}))
        for field in ("nonce", "timestamps"):
            jobs.append(("capture-frames", good, {field: value}))
    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda job: send(server, job[0], job[1], face_jpeg, text=job[2]), jobs))
    elapsed = time.monotonic() - t0
    answers += hostile_json_and_paths(server)
    by_status = collections.Counter(r.status_code for r in answers)
    by_code = collections.Counter(assert_problem(r, 200, 201) for r in answers)
    assert not [s for s in by_status if s >= 500], by_status
    assert alive(server)
    with capsys.disabled():
        print(f"\nhostile suite: {len(answers)} requests in {elapsed:.1f} s; "
              f"by status {dict(sorted(by_status.items()))}; by code {dict(by_code.most_common())}")
