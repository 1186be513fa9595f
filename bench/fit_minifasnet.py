"""Set the MiniFASNet backend's threshold on BONA FIDE development data only; write minifasnet.json.

Bona fide data, as for the cue scorer (bench/fit_passive.py): nuaa-dev `live` images and frames
(2 per second) of the real development clips in liveness-dev. No attack sample is read, so the
operating point is a stated bona fide rejection rate (default BPCER 5 %), not a fit to one attack kind.
The bona fide mean and spread of the score are stored too (for z-normalised fusion).

    FACEKYC_TEST_DATA=../shared/data FACEKYC_MINIFASNET_DIR=../shared/models/minifasnet \\
        python bench/fit_minifasnet.py [--bpcer 0.05]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from facekyc.evaluation import threshold_at_bpcer
from facekyc.vision.detect import Face
from facekyc.vision.engine import FaceEngine, select_subject
from facekyc.vision.liveness.minifasnet import MiniFasNetScorer
from facekyc.vision.liveness.video import VideoLimits, decode_file

REAL_CLIPS = ("real_turns", "real_eyes_closed", "real_mouth_open_blink", "real_wink_mouth_open")
OUT = Path(__file__).resolve().parents[1] / "facekyc" / "vision" / "data" / "minifasnet.json"


def bona_fide_faces(data: Path, engine: FaceEngine) -> Iterator[tuple[np.ndarray, Face]]:
    """(frame, subject face) for every bona fide development image and clip frame with a face."""
    nuaa = data / "nuaa-dev"
    with (nuaa / "labels.csv").open(newline="", encoding="utf-8") as handle:
        paths = [nuaa / row["path"] for row in csv.DictReader(handle) if row["label"] == "live"]
    images: Iterator[np.ndarray | None] = (cv2.imread(str(p)) for p in paths)
    limits = VideoLimits(target_fps=2, max_frames=100)
    clips = (f.bgr for clip in REAL_CLIPS for f in decode_file(str(data / "liveness-dev" / f"{clip}.mp4"), limits))
    for img in itertools.chain(images, clips):
        faces = engine.detect(img) if img is not None else []
        if img is not None and faces:
            yield img, select_subject(faces, img.shape[1], img.shape[0], "primary")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bpcer", type=float, default=0.05)
    args = parser.parse_args()
    data = Path(os.environ.get("FACEKYC_TEST_DATA", "../shared/data"))
    weights = Path(os.environ.get("FACEKYC_MINIFASNET_DIR", "../shared/models/minifasnet"))
    scorer = MiniFasNetScorer(weights, threshold=0.0)
    scores = np.array([scorer.score(img, face).score for img, face in bona_fide_faces(data, FaceEngine())])
    payload = {"threshold": threshold_at_bpcer(scores, args.bpcer), "bpcer_target": args.bpcer,
               "bona_fide_mean": float(scores.mean()), "bona_fide_std": float(scores.std()),
               "n_bona_fide": int(scores.size),
               "score": "log-odds of the mean P(real) of MiniFASNetV2 (crop 2.7) and MiniFASNetV1SE (crop 4.0)",
               "data": "nuaa-dev live + liveness-dev real clips at 2 fps (bona fide only)"}
    OUT.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
