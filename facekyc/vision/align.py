"""Face alignment: a least-squares similarity transform from 5 landmarks onto a recogniser's template.

Each recogniser was trained on crops made one particular way; matching that way exactly is what
keeps accuracy at the published figure. SFace uses the 112x112 ArcFace template that OpenCV's
`alignCrop` warps to; dlib's ResNet uses its own 150x150 chips (made by dlib itself, see
`recognisers/dlib_resnet.py`).
"""

from __future__ import annotations

import cv2
import numpy as np

# The 112x112 five-point template of ArcFace-style models (OpenCV FaceRecognizerSF.alignCrop).
ARCFACE_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 matrix of the rotation+uniform scale+translation mapping src onto dst (Umeyama, 1991).

    Least squares over all points; reflections are excluded, so a mirrored face is not "aligned".
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or src.shape[0] < 2:
        raise ValueError("src and dst must both be (n>=2, 2) point arrays")
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s0, d0 = src - mu_s, dst - mu_d
    var_s = float((s0**2).sum() / len(src))
    if var_s <= 1e-12:
        raise ValueError("source points are degenerate (all the same)")
    cov = d0.T @ s0 / len(src)
    u, sig, vt = np.linalg.svd(cov)
    fix = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        fix[1, 1] = -1.0
    rot = u @ fix @ vt
    scale = float(np.trace(np.diag(sig) @ fix)) / var_s
    matrix = np.empty((2, 3), np.float64)
    matrix[:, :2] = scale * rot
    matrix[:, 2] = mu_d - scale * rot @ mu_s
    return matrix


def apply_transform(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (n, 2) points through a 2x3 affine matrix."""
    pts = np.asarray(points, np.float64)
    mapped: np.ndarray = pts @ matrix[:, :2].T + matrix[:, 2]
    return mapped


def warp_to_template(bgr: np.ndarray, landmarks: np.ndarray, template: np.ndarray,
                     size: tuple[int, int]) -> np.ndarray:
    """Crop of `size` (w, h) with the landmarks moved onto the template points."""
    matrix = similarity_transform(landmarks, template)
    warped: np.ndarray = cv2.warpAffine(bgr, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return warped


def arcface_crop(bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The 112x112 crop SFace was trained on."""
    return warp_to_template(bgr, landmarks, ARCFACE_TEMPLATE_112, (112, 112))
