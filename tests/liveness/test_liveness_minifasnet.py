"""Optional MiniFASNet passive backend: strict weight loading, live vs print on nuaa-dev, errors, CLI.

Needs torch (`pip install 'facekyc[minifasnet]'`) and the weights under $FACEKYC_MODEL_DIR_EXTRA/minifasnet;
the tests that need them skip otherwise.
"""

from __future__ import annotations

import csv
import math
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facekyc.cli import app
from facekyc.config import Settings
from facekyc.errors import ModelUnavailable
from facekyc.vision.liveness.minifasnet import MODELS, MiniFasNetScorer, crop_box, import_torch
from facekyc.vision.liveness.pad_eval import score_image
from facekyc.vision.liveness.passive import PassiveScorer, passive_from_settings


@pytest.fixture(scope="module")
def weights_dir() -> Path:
    """$FACEKYC_MODEL_DIR_EXTRA/minifasnet with torch importable, or skip saying which is missing."""
    try:
        import torch  # noqa: F401
    except ImportError:
        pytest.skip("torch is not installed (pip install 'facekyc[minifasnet]')")
    extra = os.environ.get("FACEKYC_MODEL_DIR_EXTRA")
    if not extra:
        pytest.skip("FACEKYC_MODEL_DIR_EXTRA is not set (point it at ../shared/models)")
    path = Path(extra) / "minifasnet"
    if not all((path / m.file).is_file() for m in MODELS):
        pytest.skip(f"MiniFASNet weights not found under {path}")
    return path


@pytest.fixture(scope="module")
def scorer(weights_dir: Path) -> MiniFasNetScorer:
    return MiniFasNetScorer(weights_dir)


@pytest.fixture(scope="module")
def nuaa_rows(test_data: Path) -> list[dict[str, str]]:
    """Every 40th nuaa-dev row (10 live + 10 print), paths made absolute."""
    labels = test_data / "nuaa-dev" / "labels.csv"
    if not labels.is_file():
        pytest.skip(f"nuaa-dev not found under {labels.parent}")
    with labels.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[::40]
    return [{"path": str(labels.parent / r["path"]), "label": r["label"]} for r in rows]


def test_state_dicts_load_strictly(weights_dir: Path) -> None:
    import torch

    from facekyc.vision.liveness import minifasnet_net

    for spec in MODELS:
        net = minifasnet_net.load(spec.kind, str(weights_dir / spec.file))
        with torch.inference_mode():
            assert tuple(net(torch.zeros(2, 3, 80, 80)).shape) == (2, 3)
    with pytest.raises(RuntimeError):  # strict: V2 weights do not fit the V1SE layout
        minifasnet_net.load("v1se", str(weights_dir / MODELS[0].file))


def test_live_scores_above_print(engine, scorer: MiniFasNetScorer,  # type: ignore[no-untyped-def]
                                 nuaa_rows: list[dict[str, str]]) -> None:
    assert isinstance(scorer, PassiveScorer)
    scores: dict[str, list[float]] = {"live": [], "print": []}
    for row in nuaa_rows:
        result = score_image(engine, scorer, Path(row["path"]))
        assert not result.error and math.isfinite(result.score)
        scores[row["label"]].append(result.score)
    live, attack = (sum(v) / len(v) for v in (scores["live"], scores["print"]))
    assert len(scores["live"]) >= 5 and len(scores["print"]) >= 5
    assert live > attack


def test_missing_weights_and_torch_are_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelUnavailable) as info:
        MiniFasNetScorer(tmp_path)
    assert MODELS[0].file in info.value.message and "FACEKYC_MINIFASNET_DIR" in info.value.message
    with pytest.raises(ModelUnavailable, match="FACEKYC_MINIFASNET_DIR"):
        passive_from_settings(Settings(passive_backend="minifasnet", minifasnet_dir=None))
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    with pytest.raises(ModelUnavailable, match=r"pip install 'facekyc\[minifasnet\]'"):
        import_torch()
    assert passive_from_settings(Settings()).name == "cues"


def test_crop_stays_inside_the_image() -> None:
    assert crop_box((270, 190, 100, 100), 2.7, 640, 480) == (185, 105, 456, 376)  # centred, 2.7x wide
    for box in [(0, 0, 100, 120), (560, 380, 80, 100), (200, 150, 200, 200)]:
        x0, y0, x1, y1 = crop_box(box, 4.0, 640, 480)
        assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 480


def test_score_liveness_cli_minifasnet(weights_dir: Path, nuaa_rows: list[dict[str, str]], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    listing = tmp_path / "list.csv"
    with listing.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label"])
        writer.writeheader()
        writer.writerows(nuaa_rows[:3] + nuaa_rows[-3:])
    out = tmp_path / "scores.csv"
    args = ["score-liveness", "--list", str(listing), "--out", str(out), "--passive", "minifasnet"]
    monkeypatch.delenv("FACEKYC_MINIFASNET_DIR", raising=False)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "FACEKYC_MINIFASNET_DIR" in res.output
    monkeypatch.setenv("FACEKYC_MINIFASNET_DIR", str(weights_dir))
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    with out.open(newline="", encoding="utf-8") as handle:
        scored = list(csv.DictReader(handle))
    assert len(scored) == 6
    assert all(r["decision"] in ("live", "attack") and math.isfinite(float(r["score"])) for r in scored)
