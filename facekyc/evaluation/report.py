"""The `facekyc eval verification` report: run the engine over a pair list, then 19795-1 metrics.

Every image is analysed once (all cores); each pair gets a per-model cosine and the fused score.
Failed images are failures to acquire: their pairs count as errors in accuracy and as FTA.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from facekyc.evaluation.pairs import Pair, read_csv_pairs, read_lfw_pairs
from facekyc.evaluation.plots import plot_det
from facekyc.evaluation.verification import det_curve, stratified_fold_ids, summarise_verification


def load_pairs(pairs_file: Path, root: Path | None, fmt: str) -> list[Pair]:
    """Pairs from an LFW pairs file or a CSV with a,b,same; relative image paths are read from root
    (default: LFW's images/ folder beside the pairs file, or the CSV's own folder)."""
    if fmt == "lfw":
        return read_lfw_pairs(pairs_file, images_root=root)
    if fmt == "csv":
        return read_csv_pairs(pairs_file, images_root=root)[0]
    raise ValueError(f"unknown pair format {fmt!r}: use lfw or csv")


def verification_report(pairs_file: Path, root: Path | None, report_dir: Path, *, fmt: str = "lfw",
                        workers: int | None = None, fmr: float = 1e-3,
                        progress_factory: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Score every pair, write scores.csv, summary.json and det.png to report_dir; return the summary."""
    from facekyc.vision.batch import analyse_paths
    from facekyc.vision.calibration import Calibration
    from facekyc.vision.engine import Scorer

    pairs = load_pairs(pairs_file, root, fmt)
    if not pairs or any(p.same is None for p in pairs):
        raise ValueError("every pair needs a same/different label for an evaluation")
    paths = [str(p) for pair in pairs for p in (pair.a, pair.b)]
    progress: AbstractContextManager[Any] | None = progress_factory() if progress_factory else None
    if progress is not None:
        with progress as bar:
            task = bar.add_task("analysing images", total=len(set(paths)))
            results = analyse_paths(paths, workers=workers, progress=lambda n: bar.advance(task, n))
    else:
        results = analyse_paths(paths, workers=workers)
    cal = Calibration.load()
    scorer = Scorer(cal, cal.fusion.models)
    names = [*scorer.model_names, "fused"]
    table = np.full((len(pairs), len(names)), np.nan)
    errors: list[str] = []
    for i, pair in enumerate(pairs):
        ra, rb = results[str(pair.a)], results[str(pair.b)]
        errors.append(ra.error or rb.error or "")
        if ra.embeddings is not None and rb.embeddings is not None:
            per_model = scorer.model_scores(ra.embeddings, rb.embeddings)
            table[i] = [*per_model.values(), scorer.score(per_model)]
    labels = np.array([bool(p.same) for p in pairs])
    n_folds = max(2, min(10, int(labels.sum()), int((~labels).sum())))  # 10, unless the list is tiny
    folds = np.array([p.fold for p in pairs]) if all(p.fold is not None for p in pairs) \
        else stratified_fold_ids(labels, n_folds)
    report_dir.mkdir(parents=True, exist_ok=True)
    summaries = {n: summarise_verification(table[:, k], labels, folds).to_dict() for k, n in enumerate(names)}
    threshold = scorer.threshold(fmr)
    fused = table[:, -1]
    scored = ~np.isnan(fused)
    false_matches = int((fused[scored & ~labels] >= threshold).sum())
    false_non_matches = int(((fused < threshold) | ~scored)[labels].sum())
    shipped: dict[str, Any] = {
        "fmr_target": fmr,
        "threshold": threshold,
        "fmr": false_matches / int((scored & ~labels).sum()) if (scored & ~labels).any() else None,
        "fnmr": false_non_matches / int(labels.sum()) if labels.any() else None,
        "false_matches": false_matches,
        "impostor_pairs_scored": int((scored & ~labels).sum()),
        "false_non_matches": false_non_matches,
        "genuine_pairs": int(labels.sum()),
    }
    failed_images = sorted({p for p, r in results.items() if r.error})
    summary: dict[str, Any] = {
        "pairs": len(pairs),
        "genuine_pairs": int(labels.sum()),
        "impostor_pairs": int((~labels).sum()),
        "folds": len(np.unique(folds)),
        "images": len(results),
        "failed_images": len(failed_images),
        "fta_rate_images": len(failed_images) / max(1, len(results)),
        "accuracy": summaries["fused"]["accuracy_mean"],
        "accuracy_std": summaries["fused"]["accuracy_std"],
        "eer": summaries["fused"]["eer"],
        "fnmr_at_fmr": summaries["fused"]["fnmr_at_fmr"],
        "shipped_operating_point": shipped,
        "per_model": {n: {"accuracy": s["accuracy_mean"], "eer": s["eer"], "fnmr_at_fmr": s["fnmr_at_fmr"],
                          "genuine_scored": int((~np.isnan(table[:, k]) & labels).sum()),
                          "impostor_scored": int((~np.isnan(table[:, k]) & ~labels).sum())}
                      for k, (n, s) in enumerate(summaries.items())},
    }
    (report_dir / "summary.json").write_text(json.dumps({**summary, "details": summaries,
                                                          "failed_image_paths": failed_images}, indent=1))
    _write_scores(report_dir / "scores.csv", pairs, names, table, errors)
    curves = {}
    for k, n in enumerate(names):
        col = table[:, k]
        ok = ~np.isnan(col)
        if (ok & labels).any() and (ok & ~labels).any():
            fmr_c, fnmr_c, _ = det_curve(col[ok & labels], col[ok & ~labels])
            curves[n] = (fmr_c, fnmr_c)
    if curves:
        points = {f"shipped threshold (FMR target {fmr:g})": (float(shipped["fmr"] or 0.0),
                                                                     float(shipped["fnmr"] or 0.0))}
        plot_det(curves, report_dir / "det.png", f"DET: {pairs_file.name}", operating_points=points)
    return summary


def describe_verification(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The summary as (what, value) lines a person can read: every rate with the counts behind it, and
    what a rate needs where this pair list is too small to estimate it (instead of a bare n/a)."""
    n_gen, n_imp = summary["genuine_pairs"], summary["impostor_pairs"]
    rows = [
        ("pairs", f"{summary['pairs']:,} ({n_gen:,} genuine, {n_imp:,} impostor)"),
        ("images", f"{summary['images']:,} analysed, {summary['failed_images']:,} failed to acquire "
                   f"(FTA {_pct(summary['fta_rate_images'])})"),
        (f"accuracy, fused ({summary['folds']}-fold)",
         f"{_pct(summary['accuracy'])} ± {_pct(summary['accuracy_std'])} over {summary['pairs']:,} pairs "
         "(a pair without a score counts as a non-match)"),
    ]
    fused = summary["per_model"]["fused"]
    scored = f"{fused['genuine_scored']:,} genuine and {fused['impostor_scored']:,} impostor pairs scored"
    rows.append(("EER, fused", f"{_pct(summary['eer'])} ({scored})" if summary["eer"] is not None
                 else f"needs genuine and impostor pairs with scores (has {scored})"))
    for key, value in summary["fnmr_at_fmr"].items():
        rows.append((f"FNMR at FMR {key}, fused", _fnmr(value, float(key), fused)))
    op = summary["shipped_operating_point"]
    target = float(op["fmr_target"])
    realised = (f"{_rate(op['fmr'])} ({op['false_matches']:,} of {op['impostor_pairs_scored']:,} impostor pairs)"
                if op["fmr"] is not None else "no impostor pair scored")
    if op["impostor_pairs_scored"] * target < 1:
        realised += f"; checking {target:g} needs ≥ {_needed(target):,} impostor pairs"
    rows.append((f"shipped threshold {op['threshold']:.4f} (FMR target {target:g})",
                 f"realised FMR {realised}; FNMR " + (f"{_pct(op['fnmr'])} ({op['false_non_matches']:,} of "
                                                      f"{op['genuine_pairs']:,} genuine pairs)"
                                                      if op["fnmr"] is not None else "no genuine pair")))
    for name, model in summary["per_model"].items():
        if name == "fused":
            continue
        fnmr = "; ".join(f"FNMR at FMR {k} {_fnmr(v, float(k), model)}" for k, v in model["fnmr_at_fmr"].items())
        rows.append((f"model {name}", f"accuracy {_pct(model['accuracy'])}, EER {_pct(model['eer'])}; {fnmr}"))
    return rows


def _rate(value: float) -> str:
    return "0" if value == 0 else f"{value:.2e}"


def _needed(target: float) -> int:
    return math.ceil(1 / target - 1e-9)


def _pct(value: float | None) -> str:
    return "not estimable" if value is None else f"{100 * value:.2f}%"


def _fnmr(value: float | None, target: float, model: Mapping[str, Any]) -> str:
    if value is None:
        return f"needs ≥ {_needed(target):,} impostor pairs (has {model['impostor_scored']:,})"
    return f"{_pct(value)} of {model['genuine_scored']:,} genuine pairs"


def _write_scores(path: Path, pairs: list[Pair], names: list[str], table: np.ndarray, errors: list[str]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "same", *names, "error"])
        for pair, row, err in zip(pairs, table, errors, strict=True):
            writer.writerow([pair.a, pair.b, int(bool(pair.same)),
                             *["" if np.isnan(v) else f"{v:.6f}" for v in row], err])
