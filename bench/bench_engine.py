"""Face-engine benchmark: per-stage latency (1 thread) and pair-scoring throughput on all cores,
with the `face_recognition` package (ageitgey; dlib HOG + ResNet) run on the same pairs beside it.

    pip install --no-deps face_recognition==1.3.0     # the peer, for this benchmark only
    python bench/bench_engine.py stages  --data ../shared/data
    python bench/bench_engine.py pairs   --data ../shared/data [--limit 1000] [--workers 2] [--rounds 1] [--all]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from facekyc.evaluation import Pair, kfold_accuracy, read_lfw_pairs
from facekyc.vision.align import arcface_crop
from facekyc.vision.batch import analyse_for_pairs
from facekyc.vision.calibration import Calibration
from facekyc.vision.engine import FaceEngine, Scorer, select_subject
from facekyc.vision.image import decode_image, encode_jpeg
from facekyc.vision.quality import assess_quality
from facekyc.vision.recognisers.dlib_resnet import DlibNativeRecogniser
from facekyc.vision.recognisers.sface import SFaceRecogniser
from facekyc.vision.recognisers.sface_onnx import SFaceFloatRecogniser


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def stages(data: Path, runs: int) -> None:
    """Median latency of each stage on a real 640x480 webcam frame, one thread."""
    cv2.setNumThreads(1)
    frame = sorted((data / "nuaa-dev" / "live").rglob("*.jpg"))[0]
    jpeg = encode_jpeg(decode_image(frame.read_bytes()).bgr)
    engine = FaceEngine(threads=1)
    bgr = decode_image(jpeg).bgr
    assert bgr.shape[:2] == (480, 640)
    face = select_subject(engine.detect(bgr), 640, 480, "single")
    crop = arcface_crop(bgr, face.landmarks)
    a = engine.analyse(jpeg)
    opencv_sface, float_sface, native_dlib = SFaceRecogniser(), SFaceFloatRecogniser(), DlibNativeRecogniser()
    rows = {
        "decode (JPEG 640x480)": _median_ms(lambda: decode_image(jpeg), runs),
        "detect (YuNet)": _median_ms(lambda: engine.detect(bgr), runs),
        "align (ArcFace 112)": _median_ms(lambda: arcface_crop(bgr, face.landmarks), runs),
        "quality": _median_ms(lambda: assess_quality(bgr, face, "live", crop=crop), runs),
        "embed SFace int8 (default)": _median_ms(lambda: engine.recognisers[0].embed(bgr, face), runs),
        "embed SFace fp32 (onnxruntime)": _median_ms(lambda: float_sface.embed(bgr, face), runs),
        "embed SFace (OpenCV, int8bq file)": _median_ms(lambda: opencv_sface.embed(bgr, face), runs),
        "embed dlib (chip + ONNX graph)": _median_ms(lambda: engine.recognisers[1].embed(bgr, face), runs),
        "embed dlib (chip + dlib itself)": _median_ms(lambda: native_dlib.embed(bgr, face), runs),
        "fuse + decide": _median_ms(lambda: engine.compare(a, a), runs),
        "total analyse()": _median_ms(lambda: engine.analyse(jpeg), runs),
        "total analyse(lazy=True)": _median_ms(lambda: engine.analyse(jpeg, lazy=True), runs),
    }
    peer = _peer_stage(jpeg, runs)
    print(f"per-stage latency, median of {runs} runs, 1 thread, 640x480 JPEG ({frame.name})")
    for name, ms in rows.items():
        print(f"  {name:34s} {ms:8.2f} ms")
    for name, ms in peer.items():
        print(f"  peer {name:29s} {ms:8.2f} ms")
    print(f"  ratio peer total / ours total     {peer['total'] / rows['total analyse()']:8.2f}x")
    print(f"  ratio peer total / ours lazy      {peer['total'] / rows['total analyse(lazy=True)']:8.2f}x")


def _peer_stage(jpeg: bytes, runs: int) -> dict[str, float]:
    import io

    import face_recognition  # type: ignore[import-untyped,unused-ignore]

    image = face_recognition.load_image_file(io.BytesIO(jpeg))
    boxes = face_recognition.face_locations(image)
    return {
        "detect (HOG)": _median_ms(lambda: face_recognition.face_locations(image), runs),
        "encode (5pt + ResNet)": _median_ms(lambda: face_recognition.face_encodings(image, boxes), runs),
        "total": _median_ms(lambda: face_recognition.face_encodings(
            face_recognition.load_image_file(io.BytesIO(jpeg))), runs),
    }


def _peer_encode(path: str) -> tuple[str, np.ndarray | None]:
    import face_recognition  # type: ignore[import-untyped,unused-ignore]

    image = face_recognition.load_image_file(path)
    enc = face_recognition.face_encodings(image)
    return path, (enc[0] if enc else None)


def _pair_score(scorer: Scorer, a: dict[str, np.ndarray] | None, b: dict[str, np.ndarray] | None) -> float:
    """Fused (or single-model) score of a pair, NaN where an image failed."""
    return scorer.score(scorer.model_scores(a, b)) if a is not None and b is not None else float("nan")


def _distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """The peer's Euclidean distance, NaN where it found no face."""
    return float(np.linalg.norm(a - b)) if a is not None and b is not None else float("nan")


Run = tuple[np.ndarray, str]  # pair scores (higher = more similar, NaN = failed), a note


def _ours(plist: list[Pair], workers: int, cal: Calibration, models: tuple[str, ...]) -> Run:
    """facekyc's batch scoring of the pairs (a cascade runs dlib only where SFace cannot decide)."""
    scorer = Scorer(cal, list(models))
    pairs = [(str(p.a), str(p.b)) for p in plist]
    res = analyse_for_pairs(pairs, scorer, workers=workers, models=models)
    scores = np.array([_pair_score(scorer, res[a].embeddings, res[b].embeddings) for a, b in pairs])
    with_all = sum(1 for r in res.values() if r.embeddings is not None and set(models) <= set(r.embeddings))
    return scores, f"{with_all}/{len(res)} images with every model"


def _peer(plist: list[Pair], workers: int) -> Run:
    """face_recognition's own pipeline on the same images, in the same number of processes."""
    paths = list(dict.fromkeys(str(x) for p in plist for x in (p.a, p.b)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        enc = dict(pool.map(_peer_encode, paths, chunksize=8))
    return -np.array([_distance(enc[str(p.a)], enc[str(p.b)]) for p in plist]), ""


def pairs(data: Path, limit: int, workers: int, rounds: int, everything: bool) -> None:
    """Pairs/s and 10-fold accuracy on LFW View 1 DevTest: facekyc's default, its variants and the peer,
    one after the other in `rounds` alternating rounds on the same pairs and cores (median time)."""
    cv2.setNumThreads(1)
    plist = read_lfw_pairs(data / "lfw-view1" / "pairsDevTest.txt")
    if limit < len(plist):  # keep both classes: take the first limit/2 of each
        same = [p for p in plist if p.same][: limit // 2]
        plist = same + [p for p in plist if not p.same][: limit // 2]
    labels = np.array([bool(p.same) for p in plist])
    print(f"{len(plist)} pairs, {len({x for p in plist for x in (p.a, p.b)})} images, {workers} workers, "
          f"{rounds} round(s)")
    cal = Calibration.load()
    flat = dataclasses.replace(cal, cascade=None)
    runs: dict[str, Callable[[], Run]] = {
        "facekyc default (cascade)": lambda: _ours(plist, workers, cal, ("sface", "dlib")),
        "face_recognition 1.3 (peer)": lambda: _peer(plist, workers),
    }
    if everything:  # the variants, for the record
        runs["facekyc fused, dlib always"] = lambda: _ours(plist, workers, flat, ("sface", "dlib"))
        runs["facekyc fast (sface only)"] = lambda: _ours(plist, workers, cal, ("sface",))
    times: dict[str, list[float]] = {k: [] for k in runs}
    outcome: dict[str, Run] = {}
    for _ in range(rounds):
        for label, run in runs.items():
            t = time.perf_counter()
            outcome[label] = run()
            times[label].append(time.perf_counter() - t)
    peer_rate = len(plist) / statistics.median(times["face_recognition 1.3 (peer)"])
    print(f"{'pipeline':30s} {'seconds':>8s} {'pairs/s':>8s} {'vs peer':>8s} {'accuracy':>9s} {'failed':>7s}  note")
    for label, (scores, note) in outcome.items():
        sec = statistics.median(times[label])
        rate = len(plist) / sec
        acc = kfold_accuracy(np.nan_to_num(scores, nan=-1e9), labels)[0]
        print(f"{label:30s} {sec:8.1f} {rate:8.1f} {rate / peer_rate:7.2f}x {acc * 100:8.2f}% "
              f"{int(np.isnan(scores).sum()):7d}  {note}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["stages", "pairs"])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("FACEKYC_TEST_DATA", "../shared/data")))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--all", action="store_true", help="also time dlib-always fusion and SFace alone")
    args = parser.parse_args()
    if args.what == "stages":
        stages(args.data, args.runs)
    else:
        pairs(args.data, args.limit, args.workers, args.rounds, args.all)


if __name__ == "__main__":
    main()
