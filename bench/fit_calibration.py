"""Fit the shipped calibration (fusion weights + FMR thresholds) on LFW View 1 DevTrain only,
then check it on DevTest. Writes facekyc/vision/data/calibration.json.

    python bench/fit_calibration.py --lfw ../shared/data/lfw-view1 [--cache emb.npz]

Impostor scores for the thresholds come from every cross-identity pair of DevTrain images
(~2.4M pairs, people disjoint from DevTest); the check uses every cross-identity pair of DevTest
images and the 500 DevTest genuine pairs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np

from facekyc.evaluation import Pair, kfold_accuracy, read_lfw_pairs
from facekyc.vision.batch import analyse_paths
from facekyc.vision.calibration import FMR_TARGETS, Calibration, fit_score_calibration, fmr_key
from facekyc.vision.fusion import fit_fusion

MODELS = ("sface", "dlib")
OUT = Path(__file__).resolve().parents[1] / "facekyc" / "vision" / "data" / "calibration.json"


def embed(paths: list[str], cache: Path | None) -> dict[str, dict[str, np.ndarray]]:
    """Embeddings per image path (policy 'primary'), optionally cached in an .npz."""
    if cache and cache.exists():
        z = np.load(cache)
        arrays = {m: z[m] for m in MODELS}  # NpzFile re-reads an array on every access: read once
        return {p: {m: arrays[m][i] for m in MODELS} for i, p in enumerate(z["paths"].tolist())}
    results = analyse_paths(paths)
    failed = [p for p, r in results.items() if r.embeddings is None]
    if failed:
        print(f"{len(failed)} images failed: {failed[:5]}")
    ok: dict[str, dict[str, np.ndarray]] = {p: r.embeddings for p, r in results.items() if r.embeddings is not None}
    if cache:
        keys = list(ok)
        arrays = {"paths": np.array(keys), **{m: np.stack([ok[p][m] for p in keys]) for m in MODELS}}
        np.savez(cache, **arrays)
    return ok


def pair_scores(pairs: list[Pair], emb: dict[str, dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    cols = [[float(emb[str(p.a)][m] @ emb[str(p.b)][m]) if str(p.a) in emb and str(p.b) in emb else np.nan
             for m in MODELS] for p in pairs]
    return np.array(cols), np.array([bool(p.same) for p in pairs])


def cross_identity(paths: list[str], emb: dict[str, dict[str, np.ndarray]]) -> np.ndarray:
    """(n_pairs, n_models) cosines for every pair of images of different people."""
    keep = [p for p in paths if p in emb]
    people = np.array([Path(p).parent.name for p in keep])
    iu = np.triu_indices(len(keep), 1)
    mask = people[iu[0]] != people[iu[1]]
    cols = []
    for m in MODELS:
        x = np.stack([emb[p][m] for p in keep]).astype(np.float32)
        cols.append((x @ x.T)[iu][mask])
    return np.stack(cols, axis=1).astype(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lfw", type=Path, required=True)
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    train = read_lfw_pairs(args.lfw / "pairsDevTrain.txt")
    test = read_lfw_pairs(args.lfw / "pairsDevTest.txt")
    train_imgs = sorted({str(p.a) for p in train} | {str(p.b) for p in train})
    test_imgs = sorted({str(p.a) for p in test} | {str(p.b) for p in test})
    emb = embed(train_imgs + test_imgs, args.cache)

    x_train, y_train = pair_scores(train, emb)
    fusion = fit_fusion(MODELS, x_train[~np.isnan(x_train).any(axis=1)], y_train[~np.isnan(x_train).any(axis=1)])
    imp_train = cross_identity(train_imgs, emb)
    imp_test = cross_identity(test_imgs, emb)
    columns = {m: i for i, m in enumerate(MODELS)}
    scores = {m: fit_score_calibration(imp_train[:, i]) for m, i in columns.items()}
    scores["fused"] = fit_score_calibration(fusion.fuse_matrix(imp_train))

    x_test, y_test = pair_scores(test, emb)
    check: dict[str, object] = {}
    for name in [*MODELS, "fused"]:
        s_test = fusion.fuse_matrix(x_test) if name == "fused" else x_test[:, columns[name]]
        imp = fusion.fuse_matrix(imp_test) if name == "fused" else imp_test[:, columns[name]]
        gen = s_test[y_test & ~np.isnan(s_test)]
        acc, std, _ = kfold_accuracy(np.nan_to_num(s_test, nan=-1e9), y_test)
        check[name] = {
            "devtest_10fold_accuracy": round(acc, 4),
            "devtest_10fold_std": round(std, 4),
            "at_target": {fmr_key(t): {"threshold": round(scores[name].threshold(t), 5),
                                       "devtest_fmr": float((imp >= scores[name].threshold(t)).mean()),
                                       "devtest_fnmr": float((gen < scores[name].threshold(t)).mean())}
                          for t in FMR_TARGETS},
        }
    provenance = {
        "fitted_on": "LFW View 1 pairsDevTrain (fusion: 1,100+1,100 pairs; thresholds: "
                     f"{len(imp_train):,} cross-identity pairs of its {len(train_imgs)} images)",
        "checked_on": f"LFW View 1 pairsDevTest (1,000 pairs; {len(imp_test):,} cross-identity pairs)",
        "pipeline": "YuNet 2023mar int8 -> subject selection -> ArcFace 112 similarity alignment (SFace) / "
                    "dlib 5-point chip 150 (dlib) -> cosine -> logistic fusion",
        "script": "bench/fit_calibration.py",
        "date": dt.date.today().isoformat(),
        "check": check,
    }
    cal = Calibration(fusion=fusion, scores=scores, provenance=provenance)
    args.out.write_text(cal.to_json() + "\n")
    print(json.dumps(check, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
