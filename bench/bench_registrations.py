"""Full registrations per second over HTTP: a real uvicorn server (own process, loopback), a capture
session per registration, bounded concurrency.

    python bench/bench_registrations.py --data ../shared/data [--registrations 120] [--clients 4]

Each registration is the point-of-sale sequence: open a capture session, upload a 3-frame burst of the
customer's face (an LFW photo upscaled to 500x500), then POST the registration with the document photo
(another LFW photo of the same person) and a valid synthetic RIC number. Every person is different, so
every registration runs the full path: both faces analysed, 1:1 match, dedup search, insert.

Liveness: a still burst cannot perform a challenge, so the server runs with the same still-photo hook
the API tests use (real face analysis of the first frame, no motion checks). The motion checks of a
real video capture are measured separately by bench/bench_liveness.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from idnumbers import iccid, ric_number  # the tests' synthetic, valid numbers

from facekyc.vision.image import encode_jpeg


def serve(port: int, data_dir: Path, slots: int) -> None:
    """The server process: the real app and engine, the still-photo liveness hook, admin token to a file."""
    import uvicorn

    from facekyc.api import create_app
    from facekyc.config import Settings
    from facekyc.vision.engine import FaceEngine
    from facekyc.vision.liveness.types import CapturedFrame, Challenge, LivenessResult

    def still(engine: FaceEngine, frames: list[CapturedFrame], challenge: list[Challenge],
              now_ms: float | None) -> LivenessResult:
        best = engine.analyse(frames[0].bgr, purpose="live", policy="single")
        return LivenessResult(True, [], {"still_hook": 1.0}, [], 0, best)

    settings = Settings(data_dir=data_dir, rate_limit_per_minute=1_000_000, face_work_slots=slots)
    app = create_app(settings, liveness=still)
    token = app.state.registry.ensure_admin_key()
    (data_dir / "admin-token").write_text(token or "")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _people(data: Path, count: int) -> list[tuple[bytes, bytes]]:
    """(document photo, live frame JPEG) of `count` different LFW people with two or more photos."""
    out = []
    for person in sorted((data / "lfw-view1" / "images").iterdir()):
        photos = sorted(person.glob("*.jpg"))
        if len(photos) >= 2:
            pixels = cv2.imread(str(photos[1]))
            live = encode_jpeg(cv2.resize(pixels, (500, 500), interpolation=cv2.INTER_CUBIC))
            out.append((photos[0].read_bytes(), live))
        if len(out) == count:
            break
    return out


BUSY = {"count": 0}  # 503 busy answers seen (each retried after its Retry-After, as a kiosk does)


def _post(client: httpx.Client, url: str, **kwargs: Any) -> httpx.Response:
    """POST, retrying a 503 busy after the Retry-After the server sent."""
    while True:
        r = client.post(url, **kwargs)
        if r.status_code != 503:
            return r
        BUSY["count"] += 1
        time.sleep(float(r.headers.get("Retry-After", "1")))


def _register(client: httpx.Client, clerk: dict[str, str], k: int, doc: bytes, live: bytes) -> tuple[float, str]:
    """One point-of-sale registration; returns its wall time and decision+reasons."""
    t = time.perf_counter()
    session = client.post("/v1/capture-sessions", headers=clerk).json()
    files = [("frames", (f"f{i}.jpg", live, "image/jpeg")) for i in range(3)]
    r = _post(client, f"/v1/capture-sessions/{session['id']}/frames", headers=clerk, files=files,
              data={"nonce": session["nonce"], "timestamps": "[0, 100, 200]"})
    if r.status_code == 422:  # the photo is refused as a live capture (e.g. two faces): no registration
        return time.perf_counter() - t, "capture_refused:" + str(r.json().get("code"))
    r.raise_for_status()
    birth = f"19{60 + k // 1000:02d}0307"
    r = _post(client, "/v1/registrations", headers=clerk, files={"document_photo": ("doc.jpg", doc, "image/jpeg")},
              data={"operator_id": "op", "doc_type": "cn_ric", "document": ric_number(k % 1000, birth),
                          "capture_session_id": session["id"], "iccid": iccid(k + 1),
                    "consent_version": "kyc-consent-v3", "consent_at": "2026-01-05T10:00:00Z"})
    if r.status_code != 201:
        raise RuntimeError(f"registration {k}: {r.status_code} {r.text}")
    body = r.json()
    return time.perf_counter() - t, "+".join([str(body["decision"]), *sorted(body.get("reasons") or [])])


def _setup(client: httpx.Client, admin: dict[str, str], numbers: int) -> dict[str, str]:
    """An operator with enough numbers and a clerk key."""
    client.post("/v1/operators", json={"id": "op", "name": "OP", "country": "CN"}, headers=admin).raise_for_status()
    for start in range(0, numbers, 500):
        msisdns = [f"139{i:08d}" for i in range(start, min(numbers, start + 500))]
        client.post("/v1/operators/op/numbers", json={"msisdns": msisdns}, headers=admin).raise_for_status()
    r = client.post("/v1/api-keys", json={"name": "bench clerk", "role": "clerk", "operator_id": "op"}, headers=admin)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def run(data: Path, registrations: int, clients: int, warmup: int, slots: int) -> None:
    people = _people(data, registrations + warmup)
    if len(people) < registrations + warmup:
        raise SystemExit(f"only {len(people)} LFW people with two photos")
    with tempfile.TemporaryDirectory() as tmp:
        port = 18000 + os.getpid() % 1000
        server = subprocess.Popen([sys.executable, __file__, "serve", "--port", str(port), "--data-dir", tmp,
                                   "--slots", str(slots)])
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200 and (Path(tmp) / "admin-token").exists():
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            admin = {"Authorization": f"Bearer {(Path(tmp) / 'admin-token').read_text()}"}
            local = threading.local()

            def client() -> httpx.Client:
                if not hasattr(local, "client"):
                    local.client = httpx.Client(base_url=base, timeout=60)
                c: httpx.Client = local.client
                return c

            with httpx.Client(base_url=base, timeout=60) as setup_client:
                clerk = _setup(setup_client, admin, len(people))
            for k in range(warmup):
                _register(client(), clerk, k, *people[k])
            t = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                results: list[Any] = list(pool.map(lambda k: _register(client(), clerk, k, *people[k]),
                                                   range(warmup, warmup + registrations)))
            elapsed = time.perf_counter() - t
        finally:
            server.terminate()
            server.wait(30)
    done = [r for r in results if not r[1].startswith("capture_refused")]
    latencies = sorted(r[0] * 1000 for r in done)
    decisions = {d: sum(1 for r in results if r[1] == d) for d in {r[1] for r in results}}
    print(f"{registrations} registrations, {clients} concurrent clients, server: 1 uvicorn process, "
          f"{slots} face-work slots, {os.cpu_count()} cores, SQLite")
    print(f"  {len(done) / elapsed:.1f} registrations/s ({len(done)} in {elapsed:.1f} s); "
          f"per registration (3 requests): median {statistics.median(latencies):.0f} ms, "
          f"p95 {latencies[int(0.95 * len(latencies))]:.0f} ms")
    print(f"  decisions: {decisions}; 503 busy answers retried: {BUSY['count']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", nargs="?", default="run", choices=["run", "serve"])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("FACEKYC_TEST_DATA", "../shared/data")))
    parser.add_argument("--registrations", type=int, default=120)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--slots", type=int, default=0, help="face-work slots of the server (default: clients + 2)")
    args = parser.parse_args()
    if args.what == "serve":
        serve(args.port, args.data_dir, args.slots)
    else:
        run(args.data, args.registrations, args.clients, args.warmup, args.slots or args.clients + 2)


if __name__ == "__main__":
    main()
