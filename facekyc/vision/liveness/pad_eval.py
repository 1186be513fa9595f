"""Passive PAD scoring of image lists and ISO/IEC 30107-3 reports (used by the command line)."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facekyc.errors import FaceKycError
from facekyc.evaluation import plot_det, summarise_pad
from facekyc.evaluation.pad import is_bona_fide_label
from facekyc.vision.engine import FaceEngine, select_subject
from facekyc.vision.image import decode_image
from facekyc.vision.liveness.passive_types import PassiveScorer


@dataclass(frozen=True)
class ImageScore:
    """Passive verdict for one image; score NaN and `error` set when it could not be scored."""

    path: str
    score: float
    live: bool | None
    error: str = ""


def score_image(engine: FaceEngine, scorer: PassiveScorer, path: Path) -> ImageScore:
    """Detect the subject in one image file and score it."""
    try:
        bgr = decode_image(path.read_bytes(), max_pixels=engine.max_pixels).bgr
        faces = engine.detect(bgr)
        face = select_subject(faces, bgr.shape[1], bgr.shape[0], "primary")
        verdict = scorer.score(bgr, face)
    except OSError:
        return ImageScore(str(path), math.nan, None, "file_not_found")
    except FaceKycError as exc:
        return ImageScore(str(path), math.nan, None, exc.code)
    return ImageScore(str(path), verdict.score, verdict.live)


def read_list(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """CSV rows with a `path` column (relative to the CSV's folder or absolute)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    if "path" not in fields:
        raise ValueError(f"{path}: the CSV needs a column named path")
    return fields, rows


def resolve(base: Path, value: str) -> Path:
    p = Path(value)
    return p if p.is_absolute() else base / p


def score_list(engine: FaceEngine, scorer: PassiveScorer, list_csv: Path,
               progress: Callable[[int], None] | None = None) -> tuple[list[str], list[dict[str, str]],
                                                                         list[ImageScore]]:
    """Score every row of a list; rows keep their columns."""
    fields, rows = read_list(list_csv)
    results = []
    for row in rows:
        results.append(score_image(engine, scorer, resolve(list_csv.parent, row["path"])))
        if progress is not None:
            progress(1)
    return fields, rows, results


def write_scores(out: Path, fields: list[str], rows: list[dict[str, str]], results: list[ImageScore]) -> None:
    """Input columns + score, decision (live/attack), error."""
    out_fields = [*fields, *[c for c in ("score", "decision", "error") if c not in fields]]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=out_fields)
        writer.writeheader()
        for row, res in zip(rows, results, strict=True):
            decision = "" if res.live is None else ("live" if res.live else "attack")
            score = "" if math.isnan(res.score) else f"{res.score:.6f}"
            writer.writerow({**row, "score": score, "decision": decision, "error": res.error})


def det_points(bona: np.ndarray, attack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(APCER, BPCER) at every distinct score used as the threshold (attack when score < t)."""
    thresholds = np.unique(np.concatenate([bona, attack]))
    apcer = np.array([(attack >= t).mean() for t in thresholds])
    bpcer = np.array([(bona < t).mean() for t in thresholds])
    return apcer, bpcer


def pad_report(labels: list[str], scores: list[float], threshold: float, report: Path,
               title: str = "Passive PAD (ISO/IEC 30107-3)") -> dict[str, object]:
    """summary.json and det.png in `report`; returns the summary."""
    summary = summarise_pad(scores, labels, threshold).to_dict()
    arr = np.asarray(scores, np.float64)
    bona_mask = np.array([is_bona_fide_label(x) for x in labels])
    ok = np.isfinite(arr)
    apcer, bpcer = det_points(arr[bona_mask & ok], arr[~bona_mask & ok])
    report.mkdir(parents=True, exist_ok=True)
    plot_det({"passive": (apcer, bpcer)}, report / "det.png", title,
             x_label="Attack presentation classification error rate (APCER)",
             y_label="Bona fide presentation classification error rate (BPCER)",
             operating_points={"shipped threshold": (float(summary["apcer_max"] or 0.0),
                                                     float(summary["bpcer"] or 0.0))})
    (report / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary
