"""MiniFASNet, the default passive detector, as shipped ONNX on OpenCV DNN: provenance, equivalence with the
released PyTorch weights, decisions on real development faces, tight crops, threads, errors and the CLI.

The equivalence test needs torch and the released weights ($FACEKYC_MODEL_DIR_EXTRA/minifasnet) and skips
without them; everything else runs with the default install.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import math
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from facekyc.cli import app
from facekyc.config import Settings
from facekyc.errors import ModelUnavailable
from facekyc.vision.detect import Face
from facekyc.vision.engine import select_subject
from facekyc.vision.liveness.minifasnet import MODELS, MiniFasNetScorer, face_crop, shipped_models_dir
from facekyc.vision.liveness.passive_backends import build_passive, passive_from_settings
from facekyc.vision.liveness.passive_types import PassiveDetector

ROOT = Path(__file__).resolve().parents[2]
RELEASED = {"minifasnet_v2_2.7.onnx": ("2.7_80x80_MiniFASNetV2.pth", "v2"),
            "minifasnet_v1se_4.0.onnx": ("4_0_0_80x80_MiniFASNetV1SE.pth", "v1se")}
PROB_TOLERANCE = 1e-4  # absolute, on class probabilities: float32 kernels differ in summation order only


@pytest.fixture(scope="module")
def scorer() -> MiniFasNetScorer:
    return MiniFasNetScorer()


@pytest.fixture(scope="module")
def checking_rows(test_data: Path) -> list[dict[str, str]]:
    """Every 4th nuaa-dev row of the even-numbered subjects (the split the threshold fit never saw)."""
    labels = test_data / "nuaa-dev" / "labels.csv"
    if not labels.is_file():
        pytest.skip(f"nuaa-dev not found under {labels.parent}")
    with labels.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if int(r["subject"]) % 2 == 0][::4]
    return [{"path": str((labels.parent / r["path"]).resolve()), "label": r["label"]} for r in rows]


def subject(engine, bgr: np.ndarray) -> Face:  # type: ignore[no-untyped-def]
    return select_subject(engine.detect(bgr), bgr.shape[1], bgr.shape[0], "primary")


def test_shipped_files_carry_licence_notice_and_the_readme_hashes() -> None:
    folder = shipped_models_dir()
    assert (folder / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    notice = (folder / "NOTICE").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for spec in MODELS:
        digest = hashlib.sha256((folder / spec.file).read_bytes()).hexdigest()
        assert spec.file in notice
        row = re.search(rf"^\|[^\n]*`{re.escape(spec.file)}`[^\n]*$", readme, re.M)
        assert row is not None, f"no README model table row for {spec.file}"
        assert digest in row.group(0), f"README SHA-256 of {spec.file} is stale: {digest}"


def _released_nets() -> ModuleType:
    """tools/minifasnet/minifasnet_net.py (the PyTorch definitions live outside the package)."""
    spec = importlib.util.spec_from_file_location("minifasnet_net", ROOT / "tools" / "minifasnet" / "minifasnet_net.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_onnx_equals_the_released_pytorch_models_on_real_faces(engine, scorer: MiniFasNetScorer,  # type: ignore[no-untyped-def]
                                                               checking_rows: list[dict[str, str]]) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed (CI installs the CPU wheel)")
    extra = os.environ.get("FACEKYC_MODEL_DIR_EXTRA")
    if not extra:
        pytest.skip("FACEKYC_MODEL_DIR_EXTRA is not set (point it at ../shared/models)")
    weights = Path(extra) / "minifasnet"
    if not all((weights / pth).is_file() for pth, _ in RELEASED.values()):
        pytest.skip(f"released MiniFASNet weights not found under {weights}")
    nets = _released_nets()
    released = [nets.load(RELEASED[m.file][1], str(weights / RELEASED[m.file][0])) for m in MODELS]
    worst = 0.0
    for row in checking_rows[::5]:
        bgr = cv2.imread(row["path"])
        face = subject(engine, bgr)
        onnx_probs = scorer.probabilities(bgr, face)
        for spec, net, got in zip(MODELS, released, onnx_probs, strict=True):
            x = torch.from_numpy(face_crop(bgr, face, spec.scale).astype(np.float32).transpose(2, 0, 1).copy())
            with torch.inference_mode():
                want = torch.softmax(net(x.unsqueeze(0)), dim=1)[0].numpy()
            worst = max(worst, float(np.abs(want - got).max()))
    assert worst <= PROB_TOLERANCE, worst


def test_attacks_refused_and_real_faces_accepted_on_the_checking_split(
        engine, scorer: MiniFasNetScorer, checking_rows: list[dict[str, str]]) -> None:  # type: ignore[no-untyped-def]
    verdicts: dict[str, list[bool]] = {"live": [], "print": []}
    for row in checking_rows:
        bgr = cv2.imread(row["path"])
        verdicts[row["label"]].append(scorer.score(bgr, subject(engine, bgr)).live)
    assert len(verdicts["live"]) >= 30 and len(verdicts["print"]) >= 30
    bpcer = 1 - float(np.mean(verdicts["live"]))
    apcer = float(np.mean(verdicts["print"]))
    assert bpcer <= 0.10, bpcer  # the threshold targets 5 % on the fitting split
    assert apcer <= 0.05, apcer


def tight_crop(bgr: np.ndarray, face: Face, share: float = 0.75, height: int = 600) -> np.ndarray:
    """The middle `share` of the face box (forehead and chin cut off), enlarged to `height` px: a face
    photo cropped tighter than its own face, as ID-photo and selfie crops often are."""
    x, y, w, h = face.box
    cx, cy, w, h = x + w / 2, y + h / 2, w * share, h * share
    cut = bgr[max(0, round(cy - h / 2)):round(cy + h / 2), max(0, round(cx - w / 2)):round(cx + w / 2)]
    scale = height / cut.shape[0]
    return cv2.resize(cut, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def test_tight_crops_are_found_and_scored(engine, scorer: MiniFasNetScorer,  # type: ignore[no-untyped-def]
                                          checking_rows: list[dict[str, str]]) -> None:
    """A face filling the image past its borders: YuNet alone misses some, the padded retry finds them all."""
    missed_without_retry, scored = 0, 0
    for row in checking_rows[::6]:
        bgr = cv2.imread(row["path"])
        tight = tight_crop(bgr, subject(engine, bgr))
        missed_without_retry += not engine.detector.detect(tight)
        result = scorer.score(tight, subject(engine, tight))
        scored += math.isfinite(result.score)
    assert scored == len(checking_rows[::6])
    assert missed_without_retry > 0  # the crops are tight enough to need the retry


def test_crops_of_a_box_past_the_borders_are_full_size() -> None:
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 255, (120, 100, 3), np.uint8)
    face = Face(box=(-20.0, -30.0, 140.0, 170.0), landmarks=np.zeros((5, 2)), score=0.9)
    for spec in MODELS:
        crop = face_crop(bgr, face, spec.scale)
        assert crop.shape == (80, 80, 3) and crop.std() > 0


def test_one_detector_shared_by_many_threads_gives_the_sequential_answers(
        engine, scorer: MiniFasNetScorer, checking_rows: list[dict[str, str]]) -> None:  # type: ignore[no-untyped-def]
    samples = []
    for row in checking_rows[:: max(1, len(checking_rows) // 8)][:8]:
        bgr = cv2.imread(row["path"])
        samples.append((bgr, subject(engine, bgr)))
    expected = [scorer.score(b, f).score for b, f in samples]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda s: scorer.score(*s).score, samples * 4))
    assert got == pytest.approx(expected * 4, abs=1e-9)


def test_default_is_minifasnet_and_other_files_are_an_override(tmp_path: Path) -> None:
    assert Settings().passive_backend == "minifasnet"
    default = passive_from_settings(Settings())
    assert isinstance(default, PassiveDetector) and default.name == "minifasnet"
    assert build_passive("cues").name == "cues"
    with pytest.raises(ModelUnavailable) as info:
        passive_from_settings(Settings(minifasnet_dir=tmp_path))
    assert MODELS[0].file in info.value.message and "FACEKYC_MINIFASNET_DIR" in info.value.message
    (tmp_path / MODELS[0].file).write_bytes(b"not an onnx file")
    (tmp_path / MODELS[1].file).write_bytes(b"not an onnx file")
    with pytest.raises(ModelUnavailable, match="cannot load"):
        MiniFasNetScorer(tmp_path)
    with pytest.raises(ModelUnavailable, match="unknown passive backend"):
        build_passive("magic")


def test_the_package_never_imports_torch() -> None:
    code = ("import sys; sys.modules['torch'] = None\n"  # an import of torch would now raise
            "from facekyc.registry.liveness import default_checker\n"
            "from facekyc.config import Settings\n"
            "import facekyc.cli, facekyc.vision.liveness.check\n"
            "default_checker(Settings())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_eval_pad_cli_uses_minifasnet_by_default(checking_rows: list[dict[str, str]], tmp_path: Path) -> None:
    listing = tmp_path / "list.csv"
    live_rows = [r for r in checking_rows if r["label"] == "live"]
    rows = live_rows[:4] + [r for r in checking_rows if r["label"] != "live"][:4]
    with listing.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label"])
        writer.writeheader()
        writer.writerows(rows)
    res = CliRunner().invoke(app, ["eval", "pad", "--labels", str(listing), "--report", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    with (tmp_path / "r" / "scores.csv").open(newline="", encoding="utf-8") as handle:
        scored = list(csv.DictReader(handle))
    assert len(scored) == 8 and all(math.isfinite(float(r["score"])) for r in scored)
    live = [float(r["score"]) for r in scored if r["label"] == "live"]
    attack = [float(r["score"]) for r in scored if r["label"] != "live"]
    assert min(live) > max(attack)  # MiniFASNet separates these; the cue scorer's scale is different
    assert float(json_threshold(tmp_path / "r" / "summary.json")) == pytest.approx(MiniFasNetScorer().threshold)


def json_threshold(path: Path) -> float:
    import json

    return float(json.loads(path.read_text(encoding="utf-8"))["threshold"])
