"""Fit the passive cue scorer on BONA FIDE development data only and write passive_cues.json.

Bona fide data: nuaa-dev `live` images and frames (2 per second) of the real development clips in
liveness-dev. No attack sample is read: the scorer is one-class, so attack kinds it has never seen
are not fitted against. The threshold is the score at the stated BPCER (default 5 %).

    FACEKYC_TEST_DATA=../shared/data python bench/fit_passive.py [--bpcer 0.05]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

import cv2
import numpy as np

from facekyc.evaluation import threshold_at_bpcer
from facekyc.vision.engine import FaceEngine, select_subject
from facekyc.vision.liveness.passive import CUES, CueModel, measure_cues
from facekyc.vision.liveness.video import VideoLimits, decode_file

REAL_CLIPS = ("real_turns", "real_eyes_closed", "real_mouth_open_blink", "real_wink_mouth_open")
SPREAD_FLOOR = {"edges": 0.5, "moire": 0.1, "glare": 0.01, "desaturation": 0.03, "blur": 0.2}
WEIGHT = {"edges": 1.0, "moire": 1.0, "glare": 1.0, "desaturation": 1.0, "blur": 1.0}
OUT = Path(__file__).resolve().parents[1] / "facekyc" / "vision" / "data" / "passive_cues.json"


def bona_fide_cues(data: Path, engine: FaceEngine) -> list[dict[str, float]]:
    out = []
    nuaa = data / "nuaa-dev"
    with (nuaa / "labels.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["label"] != "live":
                continue
            img = cv2.imread(str(nuaa / row["path"]))
            if img is None:
                continue
            faces = engine.detect(img)
            if faces:
                out.append(measure_cues(img, select_subject(faces, img.shape[1], img.shape[0], "primary")))
    for clip in REAL_CLIPS:
        frames = decode_file(str(data / "liveness-dev" / f"{clip}.mp4"), VideoLimits(target_fps=2, max_frames=100))
        for frame in frames:
            faces = engine.detect(frame.bgr)
            if faces:
                h, w = frame.bgr.shape[:2]
                out.append(measure_cues(frame.bgr, select_subject(faces, w, h, "primary")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bpcer", type=float, default=0.05)
    args = parser.parse_args()
    data = Path(os.environ.get("FACEKYC_TEST_DATA", "../shared/data"))
    cues = bona_fide_cues(data, FaceEngine())
    table = np.array([[c[k] for k in CUES] for c in cues], np.float64)
    centre = np.nanmedian(table, axis=0)
    mad = 1.4826 * np.nanmedian(np.abs(table - centre), axis=0)
    spread = {k: max(float(mad[i]), SPREAD_FLOOR[k]) for i, k in enumerate(CUES)}
    model = CueModel(centre={k: float(centre[i]) for i, k in enumerate(CUES)}, spread=spread, weight=WEIGHT,
                     threshold=0.0, bpcer_target=args.bpcer)
    scores = np.array([-sum(model.evidence(c).values()) for c in cues])
    threshold = threshold_at_bpcer(scores, args.bpcer)
    payload = {"centre": model.centre, "spread": model.spread, "weight": model.weight,
               "threshold": threshold, "bpcer_target": args.bpcer, "n_bona_fide": len(cues),
               "data": "nuaa-dev live + liveness-dev real clips at 2 fps (bona fide only)"}
    OUT.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
