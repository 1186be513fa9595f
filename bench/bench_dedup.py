"""Dedup index benchmark: search over N enrolled templates with planted duplicates, per backend.

    python bench/bench_dedup.py --data ../shared/data [--sizes 10000,100000,1000000] [--queries 200]
        [--backends flat,compact-int8,compact-fp16] [--rerank 100]

Templates are real fused templates (SFace + dlib, 256-d) of LFW View 1 faces for the planted people,
and synthetic unit-norm vectors with the same per-model structure (random Gaussian directions, each
model's block normalised and scaled by the square root of its fusion weight) for the rest of the
gallery, generated in chunks of 1M so a 10M gallery never exists twice in memory. Each query is a
*different* photo of a planted person; "found" is the planted subscriber ranked first with a fused
score above the dedup threshold (FMR 1e-4); "= exact" counts queries whose top-5 ids and scores equal
an exact float32 scan's (flat backend, or a chunked numpy scan when flat is not run).
"index MB" is the resident memory the built index adds (RSS after build and queries minus before,
the flat backend's build copy of the gallery included); "peak RSS" is the process's (ru_maxrss,
benchmark arrays included): run one size and backend per process to read it cleanly.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from facekyc.storage.vector_index import open_index
from facekyc.vision.batch import analyse_paths
from facekyc.vision.calibration import Calibration
from facekyc.vision.engine import Scorer

CHUNK = 1_000_000
K = 5


def filler_chunks(size: int, weights: dict[str, float], models: list[str], seed: int) -> Iterator[np.ndarray]:
    """The synthetic part of the gallery, chunk by chunk, reproducibly."""
    rng = np.random.default_rng(seed)
    for start in range(0, size, CHUNK):
        n = min(CHUNK, size - start)
        parts = []
        for m in models:
            block = rng.standard_normal((n, 128), dtype=np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            parts.append(block * np.float32(weights[m]))
        yield np.concatenate(parts, axis=1)


def exact_top(queries: np.ndarray, enrolled: np.ndarray, chunks: Iterator[np.ndarray]) -> list[list[int]]:
    """Reference top-K ids by a float32 scan, slice by slice (ids: planted 1..P, then filler)."""
    best_s = queries @ enrolled.T
    best_i = np.tile(np.arange(1, len(enrolled) + 1), (len(queries), 1))
    offset = len(enrolled) + 1
    for chunk in chunks:
        for start in range(0, len(chunk), 200_000):
            part = chunk[start:start + 200_000]
            s = queries @ part.T
            cand = np.argpartition(-s, K, axis=1)[:, :K]
            best_s = np.concatenate([best_s, np.take_along_axis(s, cand, 1)], 1)
            best_i = np.concatenate([best_i, cand + offset + start], 1)
            top = np.argsort(-best_s, axis=1)[:, :K]
            best_s, best_i = np.take_along_axis(best_s, top, 1), np.take_along_axis(best_i, top, 1)
        offset += len(chunk)
    return [list(map(int, r)) for r in best_i]


def rss_mb() -> float:
    """Resident set size now (Linux /proc), anonymous and file-backed pages mapped by the process."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(backend: str, enrolled: np.ndarray, size: int, chunks: Iterator[np.ndarray], rerank: int) -> Any:
    if backend == "flat":
        index = open_index("flat")
        gallery = np.vstack([enrolled, *chunks])
        index.rebuild((i + 1, v) for i, v in enumerate(gallery))
        return index
    index = open_index("compact", codec=backend.split("-")[1], rerank=rerank)

    def with_ids() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        yield np.arange(1, len(enrolled) + 1), enrolled
        offset = len(enrolled) + 1
        for chunk in chunks:
            yield np.arange(offset, offset + len(chunk)), chunk
            offset += len(chunk)

    index.bulk_load(with_ids())
    return index


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("FACEKYC_TEST_DATA", "../shared/data")))
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", default="flat,compact-int8,compact-fp16")
    parser.add_argument("--rerank", type=int, default=100, help="compact: candidates re-ranked exactly")
    args = parser.parse_args()
    cal = Calibration.load()
    models = list(cal.fusion.models)
    scorer = Scorer(cal, models)
    threshold = scorer.threshold(1e-4)
    people = [p for p in sorted((args.data / "lfw-view1" / "images").iterdir()) if len(list(p.glob("*.jpg"))) >= 2]
    people = people[: args.queries]
    paths = [str(sorted(p.glob("*.jpg"))[i]) for p in people for i in (0, 1)]
    res = analyse_paths(paths)
    pairs = [(res[paths[2 * k]], res[paths[2 * k + 1]]) for k in range(len(people))]
    pairs = [(a, b) for a, b in pairs if a.embeddings is not None and b.embeddings is not None]
    enrolled = np.stack([scorer.template(a.embeddings) for a, _ in pairs])  # type: ignore[arg-type]
    queries = np.stack([scorer.template(b.embeddings) for _, b in pairs])  # type: ignore[arg-type]
    weights = cal.fusion.template_weights()
    backends = args.backends.split(",")
    print(f"{len(pairs)} planted people, threshold {threshold:.3f} (fused, FMR 1e-4), compact re-rank {args.rerank}")
    print(f"{'backend':>13s} {'gallery':>11s} {'build s':>8s} {'p50 ms':>7s} {'p95 ms':>7s} {'found':>8s} "
          f"{'= exact':>8s} {'index MB':>9s} {'peak RSS MB':>11s}")
    for size in (int(s) for s in args.sizes.split(",")):
        filler = size - len(pairs)
        reference = None if "flat" in backends else exact_top(queries, enrolled,
                                                               filler_chunks(filler, weights, models, size))
        for backend in backends:
            before = rss_mb()
            t = time.perf_counter()
            index = build(backend, enrolled, size, filler_chunks(filler, weights, models, size), args.rerank)
            built = time.perf_counter() - t
            held = rss_mb() - before
            times, found, tops = [], 0, []
            for k, q in enumerate(queries):
                t = time.perf_counter()
                hits = index.search(q, K)
                times.append((time.perf_counter() - t) * 1000)
                tops.append([h.subscriber_id for h in hits])
                top = hits[0] if hits else None
                planted = top is not None and top.subscriber_id == k + 1
                found += bool(planted and top and scorer.template_score(top.inner_product) >= threshold)
            if backend == "flat":
                reference = tops
            same = sum(a == b for a, b in zip(tops, reference or [], strict=False))
            held = max(held, rss_mb() - before)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{backend:>13s} {size:>11,d} {built:8.1f} {statistics.median(times):7.1f} "
                  f"{sorted(times)[int(0.95 * len(times))]:7.1f} {found:4d}/{len(pairs):<3d} "
                  f"{same:4d}/{len(pairs):<3d} {held:9.0f} {rss:11.0f}", flush=True)
            del index


if __name__ == "__main__":
    main()
