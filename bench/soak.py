"""Soak: a real `facekyc serve` on loopback gets thousands of mixed good (real LFW faces) and hostile
requests with concurrency; prints p50/p95 latency, answers by status and the server's RSS over time.

Two servers are soaked one after the other, identical except for glibc's malloc arenas: the service's
default (FACEKYC_MALLOC_ARENA_MAX=2, set with mallopt at start) and glibc's own default (up to 8 arenas
per core, one per thread that allocates: FACEKYC_MALLOC_ARENA_MAX=0); the ratios are printed.
Loopback only; bounded by --requests and --max-seconds per server; stops the servers itself.

    FACEKYC_TEST_DATA=../shared/data python bench/soak.py [--requests 3000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "api"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from hostile_corpus import HOSTILE_TEXT, broken_files, odd_images
from idnumbers import iccid, ric_number

from facekyc.vision.image import encode_jpeg

BUSY_RETRIES = 40  # a 503 busy is retried after BUSY_PAUSE_S (a kiosk would wait Retry-After seconds)
BUSY_PAUSE_S = 0.25


@dataclass
class Run:
    """What one soaked server answered, how fast, and how much memory it held over time."""

    label: str
    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    rss: list[tuple[float, int, float]] = field(default_factory=list)  # (seconds, requests done, MB)
    busy: int = 0  # 503 busy answers, each retried by the client
    done: int = 0
    elapsed: float = 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_server(data_dir: Path, port: int, env_extra: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """`facekyc serve` in its own process group; returns it and the first-start admin token."""
    env = {**os.environ, "FACEKYC_DATA_DIR": str(data_dir), "FACEKYC_RATE_LIMIT_PER_MINUTE": "1000000",
           "FACEKYC_MAX_UPLOAD_BYTES": "3000000", **env_extra}
    cli = Path(sys.executable).with_name("facekyc")
    proc = subprocess.Popen([str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    assert proc.stdout is not None
    token = ""
    deadline = time.monotonic() + 120
    while not token and time.monotonic() < deadline:
        found = re.search(r"fk_\S+", proc.stdout.readline())
        token = found.group(0) if found else ""
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep draining the pipe
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc, token
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the server did not start")


def good_faces(lfw: Path, count: int) -> list[tuple[bytes, bytes]]:
    """(document photo, live frame) pairs of the same person from LFW's development pairs."""
    pairs = []
    for line in (lfw / "pairsDevTrain.txt").read_text().splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        name, a, b = parts[0], int(parts[1]), int(parts[2])
        doc = (lfw / "images" / name / f"{name}_{a:04d}.jpg").read_bytes()
        live = cv2.imread(str(lfw / "images" / name / f"{name}_{b:04d}.jpg"))
        pairs.append((doc, encode_jpeg(cv2.resize(live, (500, 500), interpolation=cv2.INTER_CUBIC))))
        if len(pairs) == count:
            break
    return pairs


def request_plan(count: int, faces: list[tuple[bytes, bytes]], rng: random.Random) -> list[tuple[str, Any]]:
    """Half good requests (checks, verifications, captures, registrations), half hostile ones."""
    hostile = odd_images() + broken_files(faces[0][0], 3_000_000)
    kinds = ["doc_check", "verify", "capture", "register"]
    plan: list[tuple[str, Any]] = []
    for i in range(count):
        if i % 2 == 0:
            plan.append((rng.choice(kinds), rng.choice(faces)))
        else:
            plan.append((rng.choice(["hostile_doc_check", "hostile_verify", "hostile_capture", "hostile_text"]),
                         (rng.choice(hostile), rng.choice(HOSTILE_TEXT), faces[0])))
    return plan


def perform(client: httpx.Client, kind: str, item: Any, seq: int) -> int:
    """Send one planned request; returns the status."""
    part = lambda u: (u.name, u.data, u.content_type) if u.content_type else (u.name, u.data)  # noqa: E731
    if kind == "doc_check":
        return client.post("/v1/document-photo-checks", files={"photo": ("d.jpg", item[0], "image/jpeg")}).status_code
    if kind == "verify":
        return client.post("/v1/verifications", files={"document_photo": ("d.jpg", item[0], "image/jpeg"),
                                                       "live_photo": ("l.jpg", item[1], "image/jpeg")}).status_code
    if kind in ("capture", "hostile_capture", "register"):
        r = client.post("/v1/capture-sessions")
        if r.status_code != 201:
            return r.status_code
        session = r.json()
        frame = part(item[0]) if kind == "hostile_capture" else ("f.jpg", item[1], "image/jpeg")
        r = client.post(f"/v1/capture-sessions/{session['id']}/frames", files=[("frames", frame)] * 3,
                        data={"nonce": session["nonce"], "timestamps": "[0, 100, 200]"})
        if kind != "register" or r.status_code != 200:
            return r.status_code
        return client.post("/v1/registrations", files={"document_photo": ("d.jpg", item[0], "image/jpeg")},
                           data={"operator_id": "op", "doc_type": "cn_ric", "document": ric_number(seq),
                                 "capture_session_id": session["id"], "iccid": iccid(seq),
                                 "consent_version": "v1", "consent_at": "2026-01-05T10:00:00Z"}).status_code
    upload, text, face = item
    if kind == "hostile_doc_check":
        return client.post("/v1/document-photo-checks", files={"photo": part(upload)}).status_code
    if kind == "hostile_verify":
        return client.post("/v1/verifications", files={"document_photo": part(upload),
                                                       "live_photo": ("l.jpg", face[1], "image/jpeg")}).status_code
    return client.post("/v1/registrations", files={"document_photo": ("d.jpg", face[0], "image/jpeg")},
                       data={"operator_id": text, "doc_type": "cn_ric", "document": text, "capture_session_id": text,
                             "iccid": text, "consent_version": text, "consent_at": text}).status_code


def soak(label: str, env_extra: dict[str, str], plan: list[tuple[str, Any]], args: argparse.Namespace) -> Run:
    run = Run(label)
    with tempfile.TemporaryDirectory(prefix="facekyc-soak-") as tmp:
        port = 18_000 + random.randrange(2000)
        proc, token = start_server(Path(tmp), port, env_extra)
        base = f"http://127.0.0.1:{port}"
        try:
            admin = {"Authorization": f"Bearer {token}"}
            httpx.post(base + "/v1/operators", json={"id": "op", "name": "OP", "country": "CN"}, headers=admin)
            clerk = httpx.post(base + "/v1/api-keys", json={"name": "soak", "role": "clerk", "operator_id": "op"},
                               headers=admin).json()
            httpx.post(base + "/v1/operators/op/numbers", headers=admin,
                       json={"msisdns": [f"139{i:08d}" for i in range(len(plan))]})
            headers = {"Authorization": f"Bearer {clerk['token']}"}
            t0 = time.monotonic()
            stop = threading.Event()

            def sample() -> None:
                while not stop.is_set():
                    run.rss.append((time.monotonic() - t0, run.done, rss_mb(proc.pid)))
                    stop.wait(1.0)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            clients = threading.local()

            def one(job: tuple[int, tuple[str, Any]]) -> None:
                seq, (kind, item) = job
                if time.monotonic() - t0 > args.max_seconds:
                    return
                if not hasattr(clients, "c"):
                    clients.c = httpx.Client(base_url=base, headers=headers, timeout=120)
                ts = time.monotonic()
                for _ in range(BUSY_RETRIES):
                    try:
                        status = perform(clients.c, kind, item, 10_000 + seq)
                    except httpx.HTTPError:
                        status = 0  # a transport failure: the server dropped the connection
                    if status != 503:
                        break
                    run.busy += 1
                    time.sleep(BUSY_PAUSE_S)
                run.latencies[kind].append(time.monotonic() - ts)
                run.statuses[status] += 1
                run.done += 1

            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(one, enumerate(plan)))
            run.elapsed = time.monotonic() - t0
            time.sleep(3)  # idle: does the memory come back?
            stop.set()
            sampler.join()
            run.rss.append((time.monotonic() - t0, run.done, rss_mb(proc.pid)))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    return run


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 2 else float("nan")


def report(run: Run) -> None:
    every = [v for vs in run.latencies.values() for v in vs]
    print(f"\n== {run.label}: {run.done} requests in {run.elapsed:.0f} s ({run.done / run.elapsed:.1f}/s)")
    print(f"   latency p50 {pct(every, 50):.0f} ms  p95 {pct(every, 95):.0f} ms (all)")
    for kind, values in sorted(run.latencies.items()):
        print(f"   {kind:18s} n={len(values):5d}  p50 {pct(values, 50):6.0f} ms  p95 {pct(values, 95):6.0f} ms")
    print(f"   by final status {dict(sorted(run.statuses.items()))}; 503 busy answers retried: {run.busy}")
    marks = [run.rss[0]] + [run.rss[min(len(run.rss) - 1, round(i * (len(run.rss) - 1) / 10))] for i in range(1, 11)]
    print("   RSS (s, done, MB): " + "  ".join(f"{t:.0f}s/{d}/{mb:.0f}" for t, d, mb in marks))
    print(f"   RSS start {run.rss[0][2]:.0f} MB, peak {max(m for _, _, m in run.rss):.0f} MB, "
          f"end {run.rss[-1][2]:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="per server")
    parser.add_argument("--only", choices=["arenas2", "glibc"], help="soak one server only")
    args = parser.parse_args()
    data = Path(os.environ.get("FACEKYC_TEST_DATA", "../shared/data")) / "lfw-view1"
    if not data.is_dir():
        sys.exit(f"LFW View 1 not found under {data}; set FACEKYC_TEST_DATA")
    plan = request_plan(args.requests, good_faces(data, 200), random.Random(9))
    configs = {"arenas2": {"FACEKYC_MALLOC_ARENA_MAX": "2"}, "glibc": {"FACEKYC_MALLOC_ARENA_MAX": "0"}}
    runs = [soak(label, env, plan, args) for label, env in configs.items() if args.only in (None, label)]
    for run in runs:
        report(run)
    if len(runs) == 2:
        a, b = runs
        peak = [max(m for _, _, m in r.rss) for r in runs]
        every = [[v for vs in r.latencies.values() for v in vs] for r in runs]
        print(f"\nratio {a.label}/{b.label}: peak RSS {peak[0] / peak[1]:.2f}, "
              f"end RSS {a.rss[-1][2] / b.rss[-1][2]:.2f}, p95 {pct(every[0], 95) / pct(every[1], 95):.2f}")


if __name__ == "__main__":
    main()
