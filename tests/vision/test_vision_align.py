"""Alignment geometry: the similarity fit is exact on exact data and matches OpenCV's alignCrop."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from facekyc.vision import models
from facekyc.vision.align import ARCFACE_TEMPLATE_112, apply_transform, arcface_crop, similarity_transform
from facekyc.vision.detect import YuNetDetector, five_from_dlib
from facekyc.vision.image import decode_image


def _similarity(scale: float, angle_deg: float, tx: float, ty: float) -> np.ndarray:
    a = math.radians(angle_deg)
    return np.array([[scale * math.cos(a), -scale * math.sin(a), tx], [scale * math.sin(a), scale * math.cos(a), ty]])


@pytest.mark.parametrize(("scale", "angle", "tx", "ty"), [(1.0, 0, 0, 0), (0.37, 23.0, -40.0, 12.5),
                                                          (2.5, -170.0, 300.0, -80.0)])
def test_recovers_a_known_similarity_exactly(scale: float, angle: float, tx: float, ty: float) -> None:
    truth = _similarity(scale, angle, tx, ty)
    src = np.random.default_rng(1).uniform(0, 200, size=(5, 2))
    dst = apply_transform(truth, src)
    assert np.allclose(similarity_transform(src, dst), truth, atol=1e-9)


def test_least_squares_with_noise_is_close() -> None:
    rng = np.random.default_rng(2)
    truth = _similarity(0.8, 10, 5, -3)
    src = rng.uniform(0, 200, size=(50, 2))
    dst = apply_transform(truth, src) + rng.normal(0, 0.5, size=(50, 2))
    fitted = similarity_transform(src, dst)
    assert np.abs(fitted[:, :2] - truth[:, :2]).max() < 0.005
    assert np.abs(fitted[:, 2] - truth[:, 2]).max() < 0.3  # pixels


def test_never_returns_a_reflection() -> None:
    src = ARCFACE_TEMPLATE_112.copy()
    mirrored = src * np.array([-1.0, 1.0])  # a mirror image is not a rotation of the face
    matrix = similarity_transform(src, mirrored)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_degenerate_points_are_refused() -> None:
    with pytest.raises(ValueError):
        similarity_transform(np.ones((5, 2)), ARCFACE_TEMPLATE_112)
    with pytest.raises(ValueError):
        similarity_transform(np.ones((5, 3)), np.ones((5, 3)))


def test_template_maps_onto_itself_and_crop_is_112() -> None:
    assert np.allclose(similarity_transform(ARCFACE_TEMPLATE_112, ARCFACE_TEMPLATE_112)[:, :2], np.eye(2))
    crop = arcface_crop(np.zeros((300, 300, 3), np.uint8), ARCFACE_TEMPLATE_112 * 2)
    assert crop.shape == (112, 112, 3)


def test_matches_opencv_aligncrop_on_a_real_face(lfw_images: Path) -> None:
    bgr = decode_image((lfw_images / "Laura_Bush" / "Laura_Bush_0004.jpg").read_bytes()).bgr
    face = YuNetDetector().detect(bgr)[0]
    ours = arcface_crop(bgr, face.landmarks).astype(np.float64)
    recogniser = cv2.FaceRecognizerSF.create(str(models.sface_path()), "")
    theirs = recogniser.alignCrop(bgr, face.yunet_row()).astype(np.float64)
    assert ours.shape == theirs.shape == (112, 112, 3)
    assert np.abs(ours - theirs).mean() < 2.0  # same geometry up to interpolation details


def test_dlib_points_map_to_the_yunet_layout() -> None:
    # dlib 5-point order: image-right eye outer/inner, image-left eye outer/inner, subnasale
    pts = np.array([[160, 100], [140, 100], [80, 100], [100, 100], [120, 135]], np.float64)
    five = five_from_dlib(pts)
    assert np.allclose(five[0], [90, 100]) and np.allclose(five[1], [150, 100])  # eye centres, image-left first
    assert five[3][0] < five[4][0]  # right mouth corner (image left) before left one
    assert five[3][1] > five[2][1] > five[0][1]  # mouth below nose below eyes
