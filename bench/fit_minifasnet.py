"""Set the MiniFASNet threshold on BONA FIDE development data (fitting split), check it on a separate split.

Fitting split: nuaa-dev `live` images of the odd-numbered subjects and frames (2 per second) of the real
development clips in liveness-dev (a phone camera: a second kind of bona fide capture). No attack sample
is read for the fit: the operating point is a stated bona fide rejection rate per frame (default BPCER 5 %),
not a fit to the one attack kind in the development data. Checking split: nuaa-dev `live` and `print`
images of the even-numbered subjects (people never seen by the fit); its figures are printed and stored
with the provenance in `facekyc/vision/data/minifasnet.json`.

    FACEKYC_TEST_DATA=../shared/data python bench/fit_minifasnet.py [--bpcer 0.05] [--dry-run]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from facekyc.evaluation import summarise_pad, threshold_at_bpcer
from facekyc.vision.engine import FaceEngine, select_subject
from facekyc.vision.liveness.minifasnet import MODELS, MiniFasNetScorer, shipped_models_dir
from facekyc.vision.liveness.video import VideoLimits, decode_file

REAL_CLIPS = ("real_turns", "real_eyes_closed", "real_mouth_open_blink", "real_wink_mouth_open")
OUT = Path(__file__).resolve().parents[1] / "facekyc" / "vision" / "data" / "minifasnet.json"


def is_fitting_subject(subject: str) -> bool:
    """Odd-numbered nuaa-dev subjects fit the threshold; even-numbered ones check it."""
    return int(subject) % 2 == 1


def nuaa_rows(data: Path) -> list[dict[str, str]]:
    with (data / "nuaa-dev" / "labels.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def clip_frames(data: Path) -> Iterator[np.ndarray]:
    limits = VideoLimits(target_fps=2, max_frames=100)
    for clip in REAL_CLIPS:
        yield from (f.bgr for f in decode_file(str(data / "liveness-dev" / f"{clip}.mp4"), limits))


def score_images(engine: FaceEngine, scorer: MiniFasNetScorer, images: Iterator[np.ndarray | None]) -> list[float]:
    """The passive score of the subject of every image (NaN where no face is found)."""
    out = []
    for img in images:
        faces = engine.detect(img) if img is not None else []
        if img is None or not faces:
            out.append(float("nan"))
            continue
        out.append(scorer.score(img, select_subject(faces, img.shape[1], img.shape[0], "primary")).score)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bpcer", type=float, default=0.05)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write minifasnet.json")
    args = parser.parse_args()
    data = Path(os.environ.get("FACEKYC_TEST_DATA", "../shared/data"))
    engine, scorer = FaceEngine(), MiniFasNetScorer(threshold=0.0)
    rows = nuaa_rows(data)
    fit_rows = [r for r in rows if r["label"] == "live" and is_fitting_subject(r["subject"])]
    check_rows = [r for r in rows if not is_fitting_subject(r["subject"])]
    read = (cv2.imread(str(data / "nuaa-dev" / r["path"])) for r in fit_rows)
    fit = np.array(score_images(engine, scorer, itertools.chain(read, clip_frames(data))))
    fit = fit[np.isfinite(fit)]
    threshold = threshold_at_bpcer(fit, args.bpcer)
    check = score_images(engine, scorer, (cv2.imread(str(data / "nuaa-dev" / r["path"])) for r in check_rows))
    summary = summarise_pad(check, [r["label"] for r in check_rows], threshold,
                            apcer_targets=(0.01, 0.05)).to_dict()
    models = {m.file: hashlib.sha256((shipped_models_dir() / m.file).read_bytes()).hexdigest() for m in MODELS}
    payload = {
        "threshold": threshold, "bpcer_target": args.bpcer,
        "bona_fide_mean": float(fit.mean()), "bona_fide_std": float(fit.std()), "n_bona_fide": int(fit.size),
        "score": "log-odds of the mean P(real) of MiniFASNetV2 (crop 2.7) and MiniFASNetV1SE (crop 4.0)",
        "decision": "per capture session: the median score over the scored frames must reach the threshold",
        "fitting_split": "nuaa-dev live, odd-numbered subjects + liveness-dev real clips at 2 fps (bona fide only)",
        "checking_split": "nuaa-dev live + print, even-numbered subjects (never used for the fit)",
        "checking_figures": summary,
        "models_sha256": models,
        "fitted_by": "bench/fit_minifasnet.py", "fitted_at": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    text = json.dumps(payload, indent=1) + "\n"
    print(text)
    if not args.dry_run:
        OUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
