"""Cost of a model upgrade in progress: a dedup search over templates of one configuration, against the
same number of templates split between the current (fused SFace+dlib) and an older (SFace-only) one,
and what `templates migrate` spends per template (re-embedding a kept 200x240 enrolment crop).

    python bench/bench_template_configs.py --data ../shared/data [--templates 100000] [--runs 50]

The search side uses random unit embeddings (the index does not care whose face it is) and the
registry's own pieces: `TemplateConfigs` builds each configuration's live template, one exact
`FlatIPIndex` per configuration is searched for the top 10. Prints medians in ms and the ratio.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import faiss
import numpy as np
from bench_engine import _median_ms as median_ms

from facekyc.registry.template_configs import TemplateConfigs
from facekyc.storage.vector_index import FlatIPIndex
from facekyc.vision.calibration import Calibration
from facekyc.vision.engine import FaceEngine
from facekyc.vision.evidence_crop import face_crop_jpeg

FACES = 8  # the first LFW View 1 images, by name


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 128)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def filled(configs: TemplateConfigs, config: str, count: int, rng: np.random.Generator, first: int) -> FlatIPIndex:
    scorer, index = configs.scorer(config), FlatIPIndex()
    sface, dlib = unit(rng, count), unit(rng, count)
    index.rebuild((first + i, scorer.template({"sface": sface[i], "dlib": dlib[i]})) for i in range(count))
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="../shared/data")
    parser.add_argument("--templates", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    cv2.setNumThreads(1)
    rng = np.random.default_rng(3)
    configs = TemplateConfigs(Calibration.load(), ["sface", "dlib"], ["sface", "dlib"])
    fused, older = configs.current_id, configs.current_id.replace("sface+dlib", "sface")
    n = args.templates
    one = filled(configs, fused, n, rng, 0)
    split = [(fused, filled(configs, fused, n // 2, rng, 0)), (older, filled(configs, older, n - n // 2, rng, n))]
    live = {"sface": unit(rng, 1)[0], "dlib": unit(rng, 1)[0]}

    def search_one() -> None:
        one.search(configs.current.template(live), 10)

    def search_split() -> None:
        for config, index in split:
            index.search(configs.scorer(config).template(live), 10)

    single_ms, split_ms = median_ms(search_one, args.runs), median_ms(search_split, args.runs)
    print(f"dedup search, {n:,} templates, top 10, median of {args.runs}, one thread")
    print(f"  one configuration (fused)                 {single_ms:8.2f} ms")
    print(f"  split: {n // 2:,} fused + {n - n // 2:,} SFace-only    {split_ms:8.2f} ms "
          f"  ({split_ms / single_ms:.2f}x)")

    engine = FaceEngine()
    crops = []
    for path in sorted((args.data / "lfw-view1" / "images").glob("*/*.jpg"))[:FACES]:
        if path.exists():
            bgr = cv2.resize(cv2.imread(str(path)), (640, 480))
            crop = face_crop_jpeg(bgr, engine.analyse(bgr).face)
            if crop is not None:
                crops.append(crop)
    if not crops:
        print("no LFW image found: migrate cost not measured")
        return
    per = [median_ms(lambda c=c: engine.analyse(c, policy="primary"), max(3, args.runs // 10)) for c in crops]
    ms = float(np.median(per))
    print(f"templates migrate, per kept crop (analyse with both models), median over {len(crops)} faces: "
          f"{ms:.1f} ms -> {ms * 1e6 / 1000 / 3600:.1f} h per million templates on one core")

if __name__ == "__main__":
    main()
