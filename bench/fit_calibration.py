"""Fit the shipped calibration (fusion weights + FMR thresholds) on LFW View 1 DevTrain only,
then check it on DevTest. Writes facekyc/vision/data/calibration.json.

    python bench/fit_calibration.py --lfw ../shared/data/lfw-view1 [--cache emb.npz]

Impostor scores for the thresholds come from every cross-identity pair of DevTrain images
(~5.9M pairs, people disjoint from DevTest); the check uses every cross-identity pair of DevTest
images and the 500 DevTest genuine pairs. The cascade (SFace alone outside a band, see
facekyc/vision/cascade.py) is fitted on DevTrain too: its dlib imputation on the 2,200 DevTrain
pairs, its band on every same-identity and cross-identity pair of DevTrain images.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from pathlib import Path

import numpy as np

from facekyc.evaluation import Pair, kfold_accuracy, read_lfw_pairs
from facekyc.vision.batch import analyse_paths
from facekyc.vision.calibration import FMR_TARGETS, Calibration, ScoreCalibration, fit_score_calibration, fmr_key
from facekyc.vision.cascade import Cascade, band_edges, fit_imputation
from facekyc.vision.fusion import LogisticFusion, fit_fusion

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


def cross_identity(paths: list[str], emb: dict[str, dict[str, np.ndarray]], same: bool = False) -> np.ndarray:
    """(n_pairs, n_models) cosines for every pair of images of different people (or of the same one)."""
    keep = [p for p in paths if p in emb]
    people = np.array([Path(p).parent.name for p in keep])
    iu = np.triu_indices(len(keep), 1)
    mask = (people[iu[0]] == people[iu[1]]) if same else (people[iu[0]] != people[iu[1]])
    cols = []
    for m in MODELS:
        x = np.stack([emb[p][m] for p in keep]).astype(np.float32)
        cols.append((x @ x.T)[iu][mask])
    return np.stack(cols, axis=1).astype(np.float64)


# harm the cascade may do on DevTrain: genuine pairs newly rejected, impostors newly accepted per target
CASCADE_MAX_LOST = 1e-3  # share of genuine pairs
CASCADE_MAX_GAINED = 0.05  # share of the impostors each FMR target already allows


def fit_cascade(fusion: LogisticFusion, fused: ScoreCalibration, x_train: np.ndarray, y_train: np.ndarray,
                gen_train: np.ndarray, imp_train: np.ndarray) -> Cascade:
    """SFace decides alone outside a band fitted on DevTrain; dlib's cosine is imputed there."""
    ok = ~np.isnan(x_train).any(axis=1)
    slope, intercept = fit_imputation(x_train[ok, 0], x_train[ok, 1])
    both = np.vstack([gen_train, imp_train])
    labels = np.r_[np.ones(len(gen_train), bool), np.zeros(len(imp_train), bool)]
    imputed = fusion.fuse_matrix(np.column_stack([both[:, 0], slope * both[:, 0] + intercept]))
    thresholds = [fused.threshold(t) for t in FMR_TARGETS]
    low, high = band_edges(both[:, 0], fusion.fuse_matrix(both), imputed, labels, thresholds,
                           math.floor(CASCADE_MAX_LOST * len(gen_train)),
                           [math.floor(CASCADE_MAX_GAINED * t * len(imp_train)) for t in FMR_TARGETS])
    return Cascade(first=MODELS[0], low=low, high=high, imputed={MODELS[1]: (slope, intercept)})


def cascade_scores(cascade: Cascade, fusion: LogisticFusion, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fused scores as the lazy cascade computes them, and which pairs SFace decided alone."""
    alone = (x[:, 0] < cascade.low) | (x[:, 0] > cascade.high)
    slope, intercept = cascade.imputed[MODELS[1]]
    filled = np.where(alone[:, None], np.column_stack([x[:, 0], slope * x[:, 0] + intercept]), x)
    return fusion.fuse_matrix(filled), alone


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
    cascade = fit_cascade(fusion, scores["fused"], x_train, y_train, cross_identity(train_imgs, emb, same=True),
                          imp_train)

    x_test, y_test = pair_scores(test, emb)
    check: dict[str, object] = {}
    for name in [*MODELS, "fused", "cascade"]:
        if name == "cascade":
            s_test, alone_pairs = cascade_scores(cascade, fusion, x_test)
            imp, alone_imp = cascade_scores(cascade, fusion, imp_test)
        else:
            s_test = fusion.fuse_matrix(x_test) if name == "fused" else x_test[:, columns[name]]
            imp = fusion.fuse_matrix(imp_test) if name == "fused" else imp_test[:, columns[name]]
        cal = scores["fused" if name == "cascade" else name]
        gen = s_test[y_test & ~np.isnan(s_test)]
        acc, std, _ = kfold_accuracy(np.nan_to_num(s_test, nan=-1e9), y_test)
        check[name] = {
            "devtest_10fold_accuracy": round(acc, 4),
            "devtest_10fold_std": round(std, 4),
            "at_target": {fmr_key(t): {"threshold": round(cal.threshold(t), 5),
                                       "devtest_fmr": float((imp >= cal.threshold(t)).mean()),
                                       "devtest_fnmr": float((gen < cal.threshold(t)).mean())}
                          for t in FMR_TARGETS},
        }
        if name == "cascade":
            check[name]["sface_alone_share"] = {"devtest_pairs": round(float(alone_pairs.mean()), 4),
                                                "devtest_cross_identity_pairs": round(float(alone_imp.mean()), 4)}
    provenance = {
        "fitted_on": "LFW View 1 pairsDevTrain (fusion: 1,100+1,100 pairs; thresholds: "
                     f"{len(imp_train):,} cross-identity pairs of its {len(train_imgs)} images)",
        "checked_on": f"LFW View 1 pairsDevTest (1,000 pairs; {len(imp_test):,} cross-identity pairs)",
        "pipeline": "YuNet 2023mar int8 -> subject selection -> ArcFace 112 similarity alignment (SFace quantised "
                    "to int8 by facekyc, onnxruntime) / dlib 5-point chip 150 (dlib ResNet graph read from its "
                    ".dat, onnxruntime) -> cosine -> logistic fusion; cascade: SFace alone outside its band, dlib "
                    "cosine imputed there",
        "cascade_fit": f"band: DevTrain same-identity and cross-identity pairs, at most {CASCADE_MAX_LOST:g} of "
                       f"genuine pairs newly rejected and {CASCADE_MAX_GAINED:g} of each target's impostors "
                       "newly accepted; imputation: least squares on the DevTrain pairs",
        "script": "bench/fit_calibration.py",
        "date": dt.date.today().isoformat(),
        "check": check,
    }
    cal = Calibration(fusion=fusion, scores=scores, provenance=provenance, cascade=cascade)
    args.out.write_text(cal.to_json() + "\n")
    print(json.dumps(check, indent=1))
    print("cascade", cascade.to_dict())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
