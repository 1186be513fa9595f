"""Dedup index benchmark: exact inner-product search over N enrolled templates with planted duplicates.

    python bench/bench_dedup.py --data ../shared/data [--sizes 10000,100000,1000000] [--queries 200]

Templates are real fused templates (SFace + dlib, 256-d) of LFW View 1 faces for the planted people,
and synthetic unit-norm vectors with the same per-model structure for the rest of the gallery. Each
query is a *different* photo of a planted person; a hit is the planted subscriber ranked first with a
fused score above the dedup threshold (FMR 1e-4).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

import numpy as np

from facekyc.storage.vector_index import FlatIPIndex
from facekyc.vision.batch import analyse_paths
from facekyc.vision.calibration import Calibration
from facekyc.vision.engine import Scorer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("FACEKYC_TEST_DATA", "../shared/data")))
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    cal = Calibration.load()
    scorer = Scorer(cal, list(cal.fusion.models))
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
    rng = np.random.default_rng(0)
    print(f"{len(pairs)} planted people, threshold {threshold:.3f} (fused, FMR 1e-4)")
    print(f"{'gallery':>10s} {'build s':>8s} {'query ms (median)':>18s} {'p95 ms':>8s} {'found':>8s} {'RSS MB':>8s}")
    for size in (int(s) for s in args.sizes.split(",")):
        filler = size - len(pairs)
        parts = []
        for m in cal.fusion.models:  # random unit vectors per model, scaled like real templates
            block = rng.standard_normal((filler, 128)).astype(np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            parts.append(block * weights[m])
        gallery = np.concatenate(parts, axis=1)
        index = FlatIPIndex()
        t = time.perf_counter()
        index.rebuild(((i + 1, v) for i, v in enumerate(np.vstack([enrolled, gallery]))))
        build = time.perf_counter() - t
        times, found = [], 0
        for k, q in enumerate(queries):
            t = time.perf_counter()
            hits = index.search(q, 5)
            times.append((time.perf_counter() - t) * 1000)
            if hits and hits[0].subscriber_id == k + 1 and scorer.template_score(hits[0].inner_product) >= threshold:
                found += 1
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>10,d} {build:8.1f} {statistics.median(times):18.1f} "
              f"{sorted(times)[int(0.95 * len(times))]:8.1f} {found:4d}/{len(pairs):<3d} {rss:8.0f}")
        del index, gallery, parts


if __name__ == "__main__":
    main()
