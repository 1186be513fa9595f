"""Cost of one hostile-but-valid upload: a faceless 6000x6000 JPEG (issue 9: ~1 GB and 22 s when the
dlib fallback ran at full size, upsampled). Prints the wall time of `FaceEngine.analyse` and the
process's peak RSS; run it beside an older checkout to compare.

    python bench/bench_pixel_budget.py [--side 6000]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from facekyc.errors import FaceKycError
from facekyc.vision.engine import FaceEngine
from facekyc.vision.image import encode_jpeg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=6000)
    args = parser.parse_args()
    rng = np.random.default_rng(5)  # grey with mild noise: no face, a realistic JPEG size
    pixels = rng.integers(118, 138, (args.side, args.side, 3), dtype=np.uint8)
    data = encode_jpeg(pixels, quality=80)
    del pixels
    engine = FaceEngine()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    try:
        engine.analyse(data)
        outcome = "face found"
    except FaceKycError as exc:
        outcome = exc.code
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.side}x{args.side} faceless JPEG ({len(data) / 1024:.0f} KiB): {outcome} in {elapsed:.2f} s; "
          f"peak RSS {peak:.0f} MB (before the call {before:.0f} MB)")


if __name__ == "__main__":
    main()
