"""The engine on real faces: genuine pairs match, impostors do not, bad input gets its code."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from facekyc.errors import MultipleFaces, NoFace
from facekyc.vision.engine import FaceAnalysis, FaceEngine

GENUINE = [("Colin_Powell", 38, 74), ("Colin_Powell", 120, 205), ("Donald_Rumsfeld", 22, 28),
           ("Donald_Rumsfeld", 36, 108), ("Jacques_Chirac", 22, 30), ("Jacques_Chirac", 31, 52),
           ("Laura_Bush", 4, 11), ("Laura_Bush", 13, 32), ("Jennifer_Capriati", 3, 8),
           ("Tony_Blair", 6, 94), ("Vladimir_Putin", 1, 22), ("Serena_Williams", 17, 52)]
PEOPLE = [("Colin_Powell", 38), ("Donald_Rumsfeld", 22), ("Jacques_Chirac", 22), ("Laura_Bush", 4),
          ("Jennifer_Capriati", 3), ("Tony_Blair", 6), ("Vladimir_Putin", 1), ("Serena_Williams", 17),
          ("George_W_Bush", 353), ("Gerhard_Schroeder", 3)]


def _path(root: Path, name: str, i: int) -> Path:
    return root / name / f"{name}_{i:04d}.jpg"


@pytest.fixture(scope="module")
def analyse(engine: FaceEngine, lfw_images: Path) -> Any:
    cache: dict[tuple[str, int], FaceAnalysis] = {}

    def get(name: str, i: int) -> FaceAnalysis:
        if (name, i) not in cache:
            cache[(name, i)] = engine.analyse(_path(lfw_images, name, i).read_bytes(), policy="primary")
        return cache[(name, i)]

    return get


@pytest.mark.parametrize(("name", "i", "j"), GENUINE)
def test_genuine_pairs_match_at_fmr_1e3(engine: FaceEngine, analyse: Any, name: str, i: int, j: int) -> None:
    result = engine.compare(analyse(name, i), analyse(name, j), fmr=1e-3)
    assert result.decision == "match", result.to_dict()
    assert result.score >= result.threshold
    assert set(result.model_scores) == {"sface", "dlib"}


def test_impostor_pairs_do_not_match(engine: FaceEngine, analyse: Any) -> None:
    matched = []
    for k, (name_a, i) in enumerate(PEOPLE):
        for name_b, j in PEOPLE[k + 1:]:
            result = engine.compare(analyse(name_a, i), analyse(name_b, j), fmr=1e-3)
            if result.decision == "match":
                matched.append((name_a, name_b, result.score))
    assert matched == []  # 45 impostor pairs; at FMR 1e-3 none is expected


def test_stricter_fmr_raises_the_threshold(engine: FaceEngine, analyse: Any) -> None:
    a, b = analyse("Colin_Powell", 38), analyse("Colin_Powell", 74)
    loose, strict = engine.compare(a, b, fmr=1e-2), engine.compare(a, b, fmr=1e-5)
    assert strict.threshold > loose.threshold and strict.score == loose.score
    assert 0 < loose.estimated_fmr <= 1


def test_template_inner_product_is_the_fused_score(engine: FaceEngine, analyse: Any) -> None:
    a, b = analyse("Laura_Bush", 4), analyse("Tony_Blair", 6)
    ip = float(engine.template(a) @ engine.template(b))
    assert engine.scorer.template_score(ip) == pytest.approx(engine.compare(a, b).score, abs=1e-4)


def test_rotated_exif_copy_gives_the_same_embedding(engine: FaceEngine, lfw_images: Path) -> None:
    original = Image.open(_path(lfw_images, "Laura_Bush", 11))
    stored = original.transpose(Image.Transpose.ROTATE_270)  # pixels stored turned 90 degrees
    exif = Image.Exif()
    exif[0x0112] = 8
    buf = io.BytesIO()
    stored.save(buf, format="JPEG", quality=95, exif=exif.tobytes())
    upright = engine.analyse(_path(lfw_images, "Laura_Bush", 11).read_bytes(), policy="primary")
    turned = engine.analyse(buf.getvalue(), policy="primary")
    for model in ("sface", "dlib"):
        assert float(upright.embeddings[model] @ turned.embeddings[model]) > 0.97, model


def test_no_face_in_a_landscape(engine: FaceEngine) -> None:
    rng = np.random.default_rng(0)
    noise = cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), (9, 9), 0)
    with pytest.raises(NoFace) as info:
        engine.analyse(noise)
    assert info.value.code == "no_face"


def test_two_faces_side_by_side_are_refused_for_a_live_capture(engine: FaceEngine, lfw_images: Path) -> None:
    a = cv2.imread(str(_path(lfw_images, "Laura_Bush", 4)))
    b = cv2.imread(str(_path(lfw_images, "Tony_Blair", 6)))
    both = np.hstack([a, b])
    with pytest.raises(MultipleFaces) as info:
        engine.analyse(both, purpose="live", policy="single")
    assert info.value.code == "multiple_faces"
    assert engine.analyse(both, policy="primary").faces_found >= 2  # batch scoring picks one


def test_quality_says_what_to_fix(engine: FaceEngine, lfw_images: Path) -> None:
    good = cv2.imread(str(_path(lfw_images, "Colin_Powell", 38)))
    big = cv2.resize(good, (500, 500))  # a decent live-sized face
    assert engine.analyse(big, purpose="live").quality.passed
    dark = (big.astype(np.float32) * 0.18).astype(np.uint8)
    report = engine.analyse(dark, purpose="live").quality
    assert "brightness" in report.failed and any("dark" in h.lower() for h in report.hints)
    blurred = cv2.GaussianBlur(big, (0, 0), 6)
    report = engine.analyse(blurred, purpose="live").quality
    assert "sharpness" in report.failed and any("blur" in h.lower() for h in report.hints)
    small = engine.analyse(good, purpose="live").quality  # 250x250 LFW: too small for a live capture
    assert "face_size" in small.failed and any("closer" in h for h in small.hints)
    matrix = cv2.getRotationMatrix2D((250, 250), 35, 1.0)
    tilted = cv2.warpAffine(big, matrix, (500, 500), borderMode=cv2.BORDER_REPLICATE)
    report = engine.analyse(tilted, purpose="live").quality
    assert "roll" in report.failed and any("upright" in h for h in report.hints)


def test_stage_timings_are_reported(analyse: Any) -> None:
    timings = analyse("Colin_Powell", 38).timings_ms
    assert {"decode", "detect", "align", "quality", "embed_sface", "embed_dlib"} <= set(timings)
    assert all(v >= 0 for v in timings.values())


def test_a_tiny_face_is_refused_with_its_own_code(engine: FaceEngine, lfw_images: Path) -> None:
    from facekyc.errors import FaceTooSmall

    face = cv2.resize(cv2.imread(str(_path(lfw_images, "Colin_Powell", 38))), (40, 40), interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 128, np.uint8)
    canvas[200:240, 300:340] = face  # found by the detector, but ~8 px between the eyes
    with pytest.raises(FaceTooSmall) as info:
        engine.analyse(canvas)
    assert info.value.code == "face_too_small"


def test_chip_portrait_jpeg2000_matches_a_photo(engine: FaceEngine, lfw_images: Path) -> None:
    """ID-card chips hold ~102x126 px JPEG 2000 portraits of a few KB: they must still verify."""

    def chip(name: str, i: int) -> bytes:
        portrait = Image.open(_path(lfw_images, name, i)).crop((60, 50, 190, 210)).resize((102, 126), Image.LANCZOS)
        buf = io.BytesIO()
        portrait.save(buf, format="JPEG2000", quality_mode="rates", quality_layers=[20])
        return buf.getvalue()

    data = chip("Colin_Powell", 38)
    assert len(data) < 4000
    on_chip = engine.analyse(data, purpose="document", policy="primary")
    assert on_chip.image_size == (102, 126)
    same = engine.analyse(_path(lfw_images, "Colin_Powell", 74).read_bytes(), policy="primary")
    other = engine.analyse(_path(lfw_images, "Laura_Bush", 11).read_bytes(), policy="primary")
    assert engine.compare(on_chip, same).decision == "match"
    assert engine.compare(on_chip, other).decision == "non_match"
