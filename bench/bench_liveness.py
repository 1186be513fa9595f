"""Latency of one liveness check: a 3-step challenge on 30 frames of 640x480 (target < 1.5 s, 2 cores).

Frames come from real_turns.mp4 (the turns), letterboxed to 640x480 at 10 fps; the engine uses
`--threads` OpenCV threads. Prints the median of `--runs` checks and the per-layer times.

    FACEKYC_TEST_DATA=../shared/data python bench/bench_liveness.py [--threads 2] [--runs 5] [--passive cues]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from facekyc.vision.engine import FaceEngine
from facekyc.vision.liveness.check import check_liveness
from facekyc.vision.liveness.passive_backends import build_passive
from facekyc.vision.liveness.types import CapturedFrame, Challenge
from facekyc.vision.liveness.video import VideoLimits, decode_file


def frames_640x480(path: Path, start_s: float, n: int) -> list[CapturedFrame]:
    limits = VideoLimits(max_frames=1000, max_side=2000)
    frames = [f for f in decode_file(str(path), limits) if f.t_ms >= start_s * 1000]
    out = []
    for i, f in enumerate(frames[:n]):
        h, w = f.bgr.shape[:2]
        scale = 480 / h
        img = cv2.resize(f.bgr, (round(w * scale), 480))
        canvas = np.zeros((480, 640, 3), np.uint8)
        x = (640 - img.shape[1]) // 2
        canvas[:, x:x + img.shape[1]] = img
        out.append(CapturedFrame(canvas, i * 100.0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--passive", default="minifasnet", help="passive backend: minifasnet (default) or cues")
    args = parser.parse_args()
    data = Path(os.environ.get("FACEKYC_TEST_DATA", "../shared/data"))
    clip = data / "liveness-dev" / "real_turns.mp4"
    # 30 frames at 10 fps from 2.0 s: a turn to image right and most of the way back
    frames = frames_640x480(clip, 2.0, 30)
    engine = FaceEngine(threads=args.threads)
    challenge = [Challenge.TURN_LEFT, Challenge.BLINK, Challenge.OPEN_MOUTH]
    passive = build_passive(args.passive)
    check_liveness(engine, frames, challenge, passive=passive)  # warm-up
    times, layers = [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        result = check_liveness(engine, frames, challenge, passive=passive)
        times.append((time.perf_counter() - t0) * 1000)
        layers.append(result.timings_ms)
    print(f"3-step check, {len(frames)} frames 640x480, {args.threads} OpenCV threads, {os.cpu_count()} cpus: "
          f"median {statistics.median(times):.0f} ms (min {min(times):.0f}, max {max(times):.0f})")
    for key in layers[0]:
        print(f"  {key:10s} {statistics.median(t[key] for t in layers):7.1f} ms")


if __name__ == "__main__":
    main()
