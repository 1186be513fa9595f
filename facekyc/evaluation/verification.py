"""1:1 verification metrics in the spirit of ISO/IEC 19795-1.

Scores are similarities (higher = more alike); genuine scores come from mated pairs and impostor
scores from non-mated pairs. The decision rule everywhere is "match if score >= threshold".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from facekyc.evaluation._arrays import (
    RATE_TOLERANCE,
    BoolArray,
    FloatArray,
    as_scores,
    check_rate,
    count_ge,
    count_lt,
    json_float,
    rate_key,
    require_nonempty,
)

DEFAULT_FMR_TARGETS: tuple[float, ...] = (1e-2, 1e-3, 1e-4)

__all__ = [
    "DEFAULT_FMR_TARGETS",
    "VerificationSummary",
    "det_curve",
    "eer",
    "failure_rates",
    "fmr_fnmr",
    "fnmr_at_fmr",
    "kfold_accuracy",
    "stratified_fold_ids",
    "summarise_verification",
    "threshold_at_fmr",
]


def fmr_fnmr(
    genuine: npt.ArrayLike, impostor: npt.ArrayLike, thresholds: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """FMR (impostors >= t) and FNMR (genuines < t) at each threshold, same shape as `thresholds`."""
    gen = np.sort(as_scores(genuine, "genuine"))
    imp = np.sort(as_scores(impostor, "impostor"))
    require_nonempty(gen, "genuine")
    require_nonempty(imp, "impostor")
    thr = np.asarray(thresholds, dtype=np.float64)
    if bool(np.isnan(thr).any()):
        raise ValueError("thresholds contain NaN")
    fmr = count_ge(imp, thr) / imp.size
    fnmr = count_lt(gen, thr) / gen.size
    return fmr.astype(np.float64), fnmr.astype(np.float64)


def det_curve(genuine: npt.ArrayLike, impostor: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Every distinct operating point, as (fmr, fnmr, thresholds) with thresholds ascending.

    The thresholds are all distinct observed scores plus one value just above the highest score,
    so the curve runs from (FMR=1, FNMR=0) to (FMR=0, FNMR=1). Sorting makes it O(n log n).
    """
    gen = as_scores(genuine, "genuine")
    imp = as_scores(impostor, "impostor")
    require_nonempty(gen, "genuine")
    require_nonempty(imp, "impostor")
    distinct = np.unique(np.concatenate([gen, imp]))
    above_all = np.nextafter(distinct[-1], np.inf)
    thresholds = np.append(distinct, above_all).astype(np.float64)
    fmr, fnmr = fmr_fnmr(gen, imp, thresholds)
    return fmr, fnmr, thresholds


def eer(genuine: npt.ArrayLike, impostor: npt.ArrayLike) -> tuple[float, float]:
    """Equal error rate and the threshold where it occurs.

    FMR - FNMR falls from +1 to -1 along the DET curve. If it hits 0 exactly at observed thresholds,
    that rate is the EER (threshold: middle of the run of such thresholds). Otherwise the EER is
    where the straight segment between the two neighbouring operating points crosses FMR = FNMR,
    and the threshold is interpolated linearly along that same segment.
    """
    fmr, fnmr, thr = det_curve(genuine, impostor)
    diff = fmr - fnmr
    zero = np.flatnonzero(diff == 0.0)
    if zero.size:
        # FMR == FNMR on several thresholds implies the same rate on all of them.
        first, last = int(zero[0]), int(zero[-1])
        return float(fmr[first]), float(thr[first] / 2 + thr[last] / 2)
    i = int(np.argmax(diff < 0.0))  # first point past the crossing; diff[0] = 1 > 0 so i >= 1
    alpha = diff[i - 1] / (diff[i - 1] - diff[i])
    rate = fmr[i - 1] + alpha * (fmr[i] - fmr[i - 1])
    threshold = thr[i - 1] + alpha * (thr[i] - thr[i - 1])
    return float(rate), float(threshold)


def threshold_at_fmr(impostor: npt.ArrayLike, target_fmr: float) -> float:
    """Smallest observed impostor score t whose empirical FMR (impostors >= t) is <= target.

    Tie rule: impostors scoring exactly t are false matches (">="), so when ties at a score would
    push FMR over the target the threshold moves up to the next distinct score; ties never make
    the target be exceeded. If even the top impostor score is too permissive (target < 1/n), the
    result is a value just above the highest impostor score (empirical FMR 0, which does not show
    that the target is met). Any threshold between the next lower distinct score (exclusive) and
    the returned one gives the same empirical FMR.
    """
    imp = np.sort(as_scores(impostor, "impostor"))
    require_nonempty(imp, "impostor")
    target = check_rate(target_fmr, "target_fmr")
    distinct = np.unique(imp)
    ok = count_ge(imp, distinct) <= target * imp.size + RATE_TOLERANCE
    if not bool(ok.any()):
        return float(np.nextafter(distinct[-1], np.inf))
    return float(distinct[int(np.argmax(ok))])


def fnmr_at_fmr(genuine: npt.ArrayLike, impostor: npt.ArrayLike, target_fmr: float) -> float:
    """FNMR at `threshold_at_fmr(impostor, target_fmr)`.

    Returns NaN when target_fmr < 1/len(impostor): with n impostor trials the smallest non-zero
    FMR that can be observed is 1/n, so a lower target is not estimable from this data.
    """
    gen = as_scores(genuine, "genuine")
    imp = as_scores(impostor, "impostor")
    require_nonempty(gen, "genuine")
    require_nonempty(imp, "impostor")
    target = check_rate(target_fmr, "target_fmr")
    if not _estimable(target, imp.size):
        return math.nan
    threshold = threshold_at_fmr(imp, target)
    return float(np.count_nonzero(gen < threshold) / gen.size)


def _estimable(target: float, n: int) -> bool:
    """A rate target can only be checked with at least 1/target trials."""
    return target * n >= 1.0 - RATE_TOLERANCE


def failure_rates(n_attempts: int, n_failed: int) -> float:
    """Failure-to-acquire rate n_failed / n_attempts (NaN when nothing was attempted)."""
    if n_attempts < 0 or n_failed < 0 or n_failed > n_attempts:
        raise ValueError(f"need 0 <= n_failed <= n_attempts, got {n_failed} of {n_attempts}")
    return math.nan if n_attempts == 0 else n_failed / n_attempts


def stratified_fold_ids(labels: npt.ArrayLike, folds: int = 10) -> npt.NDArray[np.intp]:
    """Fold id per pair: positives and negatives are each cut into `folds` contiguous runs.

    Keeping file order inside each class reproduces the LFW View 2 folds, and still balances
    files that list every matched pair before every mismatched one (View 1 / DevTest).
    """
    lab = _as_labels(labels, "labels")
    if folds < 2:
        raise ValueError(f"folds must be >= 2, got {folds}")
    ids = np.empty(lab.size, dtype=np.intp)
    for cls in (True, False):
        where = np.flatnonzero(lab == cls)
        ids[where] = np.arange(where.size) * folds // max(where.size, 1)
    present = np.unique(ids)
    if present.size != folds:
        raise ValueError(f"{lab.size} pairs are too few to fill {folds} folds")
    return ids


def kfold_accuracy(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    folds: int = 10,
    fold_ids: npt.ArrayLike | None = None,
) -> tuple[float, float, list[float]]:
    """LFW-protocol accuracy: mean, sample std (ddof=1) and per-fold accuracies.

    For each fold the threshold that maximises accuracy on the other folds is applied to it.
    NaN scores (no score could be produced) are always non-match decisions. Without `fold_ids`
    the folds come from `stratified_fold_ids`; with them, `folds` is ignored. The LFW standard
    error is std / sqrt(number of folds).
    """
    sc = as_scores(scores, "scores", allow_nan=True)
    lab = _as_labels(labels, "labels")
    if lab.size != sc.size:
        raise ValueError(f"scores ({sc.size}) and labels ({lab.size}) differ in length")
    ids = stratified_fold_ids(lab, folds) if fold_ids is None else np.asarray(fold_ids).reshape(-1)
    if ids.size != sc.size:
        raise ValueError(f"fold_ids ({ids.size}) and scores ({sc.size}) differ in length")
    fold_values = np.unique(ids)
    if fold_values.size < 2:
        raise ValueError("k-fold accuracy needs at least 2 folds")
    per_fold: list[float] = []
    for fold in fold_values:
        held = ids == fold
        threshold, _ = _best_threshold(sc[~held], lab[~held])
        decisions = sc[held] >= threshold  # NaN compares False: a non-match
        per_fold.append(float(np.mean(decisions == lab[held])))
    arr = np.asarray(per_fold)
    return float(arr.mean()), float(arr.std(ddof=1)), per_fold


def _best_threshold(scores: FloatArray, labels: BoolArray) -> tuple[float, float]:
    """Threshold maximising accuracy on a training set, and that accuracy (O(n log n)).

    Candidates: the lowest score, midpoints between consecutive distinct scores and a value above
    the highest score; ties go to the lowest candidate. NaN scores are always rejected.
    """
    finite = np.isfinite(scores)
    distinct = np.unique(scores[finite])
    if distinct.size == 0:
        return math.inf, float(np.mean(~labels)) if labels.size else math.nan
    candidates = np.concatenate(
        [distinct[:1], distinct[:-1] / 2 + distinct[1:] / 2, [np.nextafter(distinct[-1], np.inf)]]
    )
    pos = np.sort(scores[finite & labels])
    neg = np.sort(scores[finite & ~labels])
    n_neg_failed = int(np.count_nonzero(~finite & ~labels))
    correct = count_ge(pos, candidates) + count_lt(neg, candidates) + n_neg_failed
    best = int(np.argmax(correct))
    return float(candidates[best]), float(correct[best] / labels.size)


def _as_labels(labels: npt.ArrayLike, name: str) -> BoolArray:
    """Labels must be genuinely boolean (or 0/1), not arbitrary truthy values."""
    arr = np.asarray(labels).reshape(-1)
    if arr.dtype != np.bool_:
        if arr.size and not bool(np.isin(arr, (0, 1)).all()):
            raise ValueError(f"{name} must be boolean or 0/1")
        arr = arr.astype(np.bool_)
    return arr


@dataclass(frozen=True)
class VerificationSummary:
    """Headline verification numbers for one benchmark run, ready for a JSON report.

    Counts: n_genuine / n_impostor include failed pairs; n_failed is pairs without a score.
    Rate dictionaries are keyed like "1e-03"; NaN means not estimable (see `fnmr_at_fmr`).
    """

    n_genuine: int
    n_impostor: int
    n_failed: int
    fta_rate: float
    accuracy_mean: float
    accuracy_std: float
    eer: float
    eer_threshold: float
    fnmr_at_fmr: dict[str, float]
    threshold_at_fmr: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict; NaN becomes None because JSON has no NaN."""
        return {
            "n_genuine": self.n_genuine,
            "n_impostor": self.n_impostor,
            "n_failed": self.n_failed,
            "fta_rate": json_float(self.fta_rate),
            "accuracy_mean": json_float(self.accuracy_mean),
            "accuracy_std": json_float(self.accuracy_std),
            "eer": json_float(self.eer),
            "eer_threshold": json_float(self.eer_threshold),
            "fnmr_at_fmr": {k: json_float(v) for k, v in self.fnmr_at_fmr.items()},
            "threshold_at_fmr": {k: json_float(v) for k, v in self.threshold_at_fmr.items()},
        }


def summarise_verification(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    fold_ids: npt.ArrayLike | None = None,
    *,
    folds: int = 10,
    fmr_targets: tuple[float, ...] = DEFAULT_FMR_TARGETS,
) -> VerificationSummary:
    """Summarise a pair benchmark; NaN scores mark pairs where no score could be produced.

    Failed pairs are reported as FTA and, to stay conservative, count as non-match decisions in
    the k-fold accuracy (a failed genuine pair is an error, a failed impostor pair is correct).
    They are left out of the DET-based numbers (EER, FNMR@FMR), which describe the comparator
    on the pairs it could score. FNMR@FMR and its threshold are NaN when the target is below
    1/(scored impostor pairs), since such a low FMR cannot be observed with this many trials.
    """
    sc = as_scores(scores, "scores", allow_nan=True)
    lab = _as_labels(labels, "labels")
    if lab.size != sc.size:
        raise ValueError(f"scores ({sc.size}) and labels ({lab.size}) differ in length")
    failed = np.isnan(sc)
    genuine = sc[lab & ~failed]
    impostor = sc[~lab & ~failed]
    acc_mean, acc_std, _ = kfold_accuracy(sc, lab, folds=folds, fold_ids=fold_ids)
    rate = eer_threshold = math.nan
    fnmr_at: dict[str, float] = {}
    thr_at: dict[str, float] = {}
    for target in fmr_targets:
        fnmr_at[rate_key(target)] = math.nan
        thr_at[rate_key(target)] = math.nan
    if genuine.size and impostor.size:
        rate, eer_threshold = eer(genuine, impostor)
        for target in fmr_targets:
            if _estimable(target, impostor.size):
                thr_at[rate_key(target)] = threshold_at_fmr(impostor, target)
                fnmr_at[rate_key(target)] = fnmr_at_fmr(genuine, impostor, target)
    n_failed = int(failed.sum())
    return VerificationSummary(
        n_genuine=int(lab.sum()),
        n_impostor=int((~lab).sum()),
        n_failed=n_failed,
        fta_rate=failure_rates(int(sc.size), n_failed),
        accuracy_mean=acc_mean,
        accuracy_std=acc_std,
        eer=rate,
        eer_threshold=eer_threshold,
        fnmr_at_fmr=fnmr_at,
        threshold_at_fmr=thr_at,
    )
