"""MiniFASNet as shipped: runtimes side by side, tight-crop failure-to-acquire before/after, latency per face.

1. Runtimes on the same real 80x80 crops (nuaa-dev): OpenCV DNN (shipped) vs onnxruntime (if installed)
   vs the released PyTorch weights (if torch and $FACEKYC_MODEL_DIR_EXTRA are there): ms per crop and
   the largest difference in class probability from PyTorch.
2. Tight crops: every nuaa-dev image cut to the middle 80 % of its face box and enlarged to 600 px tall
   (the face runs past every border).
   Failure to acquire with the old detection (YuNet, then dlib) and the new (plus YuNet on a padded copy),
   and PAD figures on the checking split (even-numbered subjects) at the shipped threshold.
3. Latency of `score` per face (both models, crop included), one thread.

    FACEKYC_TEST_DATA=../shared/data FACEKYC_MODEL_DIR_EXTRA=../shared/models python bench/bench_minifasnet.py
"""

from __future__ import annotations

import csv
import importlib.util
import os
import statistics
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facekyc.evaluation import summarise_pad
from facekyc.vision.detect import Face
from facekyc.vision.engine import FaceEngine, select_subject
from facekyc.vision.liveness.minifasnet import MODELS, MiniFasNetScorer, build_net, face_crop, shipped_models_dir

ROOT = Path(__file__).resolve().parents[1]
TIGHT_SHARE, TIGHT_HEIGHT = 0.8, 600  # tight crops: 80 % of the face box, enlarged to 600 px tall
RELEASED = {"v2": "2.7_80x80_MiniFASNetV2.pth", "v1se": "4_0_0_80x80_MiniFASNetV1SE.pth"}


def torch_nets() -> tuple[Any, list[Any]] | None:
    """(torch, [released nets in MODELS order]) or None when torch or the weights are absent."""
    extra = os.environ.get("FACEKYC_MODEL_DIR_EXTRA")
    if importlib.util.find_spec("torch") is None or not extra:
        return None
    import torch

    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("minifasnet_net", ROOT / "tools" / "minifasnet" / "minifasnet_net.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return torch, [module.load(m.kind, str(Path(extra) / "minifasnet" / RELEASED[m.kind])) for m in MODELS]


def runtimes(crops: list[list[np.ndarray]]) -> None:
    """ms per crop and max |p - p_torch| for each runtime; crops[i] holds one crop per model."""
    dnn = [build_net((shipped_models_dir() / m.file).read_bytes()) for m in MODELS]

    def run_dnn(k: int, x: np.ndarray) -> np.ndarray:
        dnn[k].setInput(x)
        return np.asarray(dnn[k].forward())

    runners: dict[str, Any] = {"opencv-dnn": run_dnn}
    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        sessions = [ort.InferenceSession(str(shipped_models_dir() / m.file), opts, providers=["CPUExecutionProvider"])
                    for m in MODELS]
        runners["onnxruntime"] = lambda k, x: sessions[k].run(None, {"input": x})[0]
    loaded = torch_nets()
    if loaded is not None:
        torch, nets = loaded

        def run_torch(k: int, x: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return np.asarray(torch.softmax(nets[k](torch.from_numpy(x)), dim=1).numpy())

        runners["pytorch"] = run_torch
    inputs = [[np.ascontiguousarray(c.astype(np.float32).transpose(2, 0, 1))[None] for c in pair] for pair in crops]
    outputs: dict[str, list[np.ndarray]] = {}
    for name, run in runners.items():
        for k in range(len(MODELS)):
            run(k, inputs[0][k])  # warm-up
        t0 = time.perf_counter()
        outputs[name] = [np.asarray(run(k, pair[k])).reshape(-1) for pair in inputs for k in range(len(MODELS))]
        ms = (time.perf_counter() - t0) * 1000 / (len(inputs) * len(MODELS))
        print(f"  {name:12s} {ms:6.2f} ms per crop")
    if "pytorch" in outputs:
        for name in runners:
            if name != "pytorch":
                worst = max(float(np.abs(a - b).max()) for a, b in zip(outputs[name], outputs["pytorch"], strict=True))
                print(f"  {name} vs pytorch: max |p - p_torch| = {worst:.2e}")


def tight_crop(bgr: np.ndarray, face: Face, share: float = TIGHT_SHARE, height: int = TIGHT_HEIGHT) -> np.ndarray:
    """The middle `share` of the face box (forehead and chin cut off), enlarged to `height` px."""
    x, y, w, h = face.box
    cx, cy, w, h = x + w / 2, y + h / 2, w * share, h * share
    cut = bgr[max(0, round(cy - h / 2)):round(cy + h / 2), max(0, round(cx - w / 2)):round(cx + w / 2)]
    scale = height / cut.shape[0]
    return np.asarray(cv2.resize(cut, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC))


def main() -> None:
    data = Path(os.environ.get("FACEKYC_TEST_DATA", "../shared/data")) / "nuaa-dev"
    with (data / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    engine, scorer = FaceEngine(threads=1), MiniFasNetScorer()
    crops, tight_scores, tight_labels, per_face = [], [], [], []
    missed_yunet = missed_old = missed_new = 0
    for row in rows:
        bgr = cv2.imread(str(data / row["path"]))
        face = select_subject(engine.detect(bgr), bgr.shape[1], bgr.shape[0], "primary")
        if len(crops) < 100 and len(per_face) % 4 == 0:
            crops.append([face_crop(bgr, face, m.scale) for m in MODELS])
        t0 = time.perf_counter()
        scorer.score(bgr, face)
        per_face.append((time.perf_counter() - t0) * 1000)
        tight = tight_crop(bgr, face)
        old = engine.detector.detect(tight) or (engine.fallback.detect(tight) if engine.fallback else [])
        new = engine.detect(tight)
        missed_yunet += not engine.detector.detect(tight)
        missed_old += not old
        missed_new += not new
        if int(row["subject"]) % 2 == 0:
            tight_labels.append(row["label"])
            tight_face = select_subject(new, tight.shape[1], tight.shape[0], "primary") if new else None
            tight_scores.append(scorer.score(tight, tight_face).score if tight_face else float("nan"))
    print(f"runtimes on {len(crops)} x {len(MODELS)} real crops, 1 thread:")
    runtimes(crops)
    n = len(rows)
    print(f"tight crops ({TIGHT_SHARE:.0%} of the box, {TIGHT_HEIGHT} px) of {n} nuaa-dev images: "
          f"YuNet alone misses {missed_yunet / n:.1%}; failure to acquire {missed_old / n:.1%} before "
          f"(YuNet, then dlib) -> {missed_new / n:.1%} after (plus YuNet on a padded copy)")
    s = summarise_pad(tight_scores, tight_labels, scorer.threshold, apcer_targets=(0.01, 0.05)).to_dict()
    print(f"tight crops, checking split ({len(tight_labels)}): APCER {s['apcer_max']:.1%} BPCER {s['bpcer']:.1%} "
          f"ACER {s['acer']:.1%} EER {s['eer']:.1%} BPCER@APCER1% {s['bpcer_at_apcer']['1e-02']:.1%} "
          f"BPCER@APCER5% {s['bpcer_at_apcer']['5e-02']:.1%}")
    q = statistics.quantiles(per_face, n=20)
    print(f"score per face (both models, crop included, 1 thread): median {statistics.median(per_face):.1f} ms, "
          f"p95 {q[18]:.1f} ms over {len(per_face)} faces")


if __name__ == "__main__":
    main()
