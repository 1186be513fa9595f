"""Evaluation metrics and plots for face verification and PAD: pure numpy, no images or models."""

from facekyc.evaluation.pad import (
    PadSummary,
    apcer_bpcer,
    bpcer_at_apcer,
    summarise_pad,
    threshold_at_bpcer,
)
from facekyc.evaluation.pairs import Pair, read_csv_pairs, read_lfw_pairs
from facekyc.evaluation.plots import plot_det
from facekyc.evaluation.verification import (
    VerificationSummary,
    det_curve,
    eer,
    failure_rates,
    fmr_fnmr,
    fnmr_at_fmr,
    kfold_accuracy,
    stratified_fold_ids,
    summarise_verification,
    threshold_at_fmr,
)

__all__ = [
    "PadSummary",
    "Pair",
    "VerificationSummary",
    "apcer_bpcer",
    "bpcer_at_apcer",
    "det_curve",
    "eer",
    "failure_rates",
    "fmr_fnmr",
    "fnmr_at_fmr",
    "kfold_accuracy",
    "plot_det",
    "read_csv_pairs",
    "read_lfw_pairs",
    "stratified_fold_ids",
    "summarise_pad",
    "summarise_verification",
    "threshold_at_bpcer",
    "threshold_at_fmr",
]
