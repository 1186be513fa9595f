"""The fast engine: SFace on unpacked float32 weights in onnxruntime, the SFace-first cascade with lazy
dlib embeddings, and draft-mode decoding of large JPEGs; all checked against the slow paths."""

from __future__ import annotations

import dataclasses
import io
import itertools
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facekyc.vision.calibration import FMR_TARGETS, Calibration, fmr_key
from facekyc.vision.cascade import Cascade, band_edges
from facekyc.vision.detect import Face
from facekyc.vision.engine import FaceAnalysis, FaceEngine, Scorer, select_subject
from facekyc.vision.image import decode_image
from facekyc.vision.onnx_unpack import dequantize_blocks

PEOPLE = [("Colin_Powell", 38), ("Colin_Powell", 74), ("Laura_Bush", 4), ("Laura_Bush", 11),
          ("Tony_Blair", 6), ("Vladimir_Putin", 1), ("Serena_Williams", 17), ("Jacques_Chirac", 22)]


def _bytes(root: Path, name: str, i: int) -> bytes:
    return (root / name / f"{name}_{i:04d}.jpg").read_bytes()


# ---- unpacking the int8 weights ------------------------------------------------------------------
def test_block_dequantisation_matches_the_onnx_definition() -> None:
    rng = np.random.default_rng(3)
    q = rng.integers(-128, 128, (4, 10), dtype=np.int8)
    scales = rng.random((4, 3)).astype(np.float32) + 0.1  # blocks of 4 along axis 1: 4 + 4 + 2 (partial)
    zero = rng.integers(-5, 5, (4, 3), dtype=np.int8)
    out = dequantize_blocks(q, scales, zero, axis=1, block_size=4)
    for r, c in itertools.product(range(4), range(10)):
        assert out[r, c] == pytest.approx((float(q[r, c]) - zero[r, c // 4]) * scales[r, c // 4], rel=1e-6)
    per_axis = dequantize_blocks(q, scales[:, 0], None, axis=0, block_size=0)
    assert np.allclose(per_axis, q.astype(np.float32) * scales[:, :1])


def test_onnxruntime_sface_gives_opencvs_embeddings(engine: FaceEngine, lfw_images: Path) -> None:
    """Same model, same crop: the unpacked float32 graph (PRelu split) must reproduce OpenCV on the int8bq
    file, and the shipped int8 network must stay close to it (the calibration is fitted on the int8 one)."""
    from facekyc.vision.recognisers.sface import SFaceRecogniser
    from facekyc.vision.recognisers.sface_onnx import SFaceFloatRecogniser, SFaceOnnxRecogniser

    fast, slow, int8 = SFaceFloatRecogniser(), SFaceRecogniser(), SFaceOnnxRecogniser()
    assert int8.precision == "int8" and fast.precision == "fp32"
    closeness = []
    for name, i in PEOPLE:
        bgr = decode_image(_bytes(lfw_images, name, i)).bgr
        face = select_subject(engine.detect(bgr), bgr.shape[1], bgr.shape[0], "primary")
        a, b, q = fast.embed(bgr, face), slow.embed(bgr, face), int8.embed(bgr, face)
        assert a.dtype == np.float32 and a.shape == (128,) and q.shape == (128,)
        assert float(a @ b) > 0.99999, (name, i)
        closeness.append(float(a @ q))
        assert closeness[-1] > 0.985, (name, i)
    assert float(np.median(closeness)) > 0.993
    # a different person is still far apart under int8
    assert float(int8.embed(*_face(engine, lfw_images, 0)) @ int8.embed(*_face(engine, lfw_images, 4))) < 0.3


def _face(engine: FaceEngine, root: Path, k: int) -> tuple[np.ndarray, Face]:
    bgr = decode_image(_bytes(root, *PEOPLE[k])).bgr
    return bgr, select_subject(engine.detect(bgr), bgr.shape[1], bgr.shape[0], "primary")


def test_the_int8_sface_ships_with_licence_notice_and_the_readme_hash() -> None:
    import hashlib
    import re

    from facekyc.vision import models

    path = models.sface_int8_path()
    folder, root = path.parent, Path(__file__).resolve().parents[2]
    assert (folder / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    assert path.name in (folder / "NOTICE").read_text(encoding="utf-8")
    assert (root / "tools" / "sface_int8" / "quantize.py").is_file()
    row = re.search(rf"^\|[^\n]*`{re.escape(path.name)}`[^\n]*$", (root / "README.md").read_text(encoding="utf-8"),
                    re.M)
    assert row is not None, "no README model table row for the int8 SFace"
    assert hashlib.sha256(path.read_bytes()).hexdigest() in row.group(0), "README SHA-256 of the int8 SFace is stale"


def test_prelu_rewrite_computes_prelu_for_any_slope() -> None:
    """Slopes below zero and above one occur in SFace: the Min/Mul/Add form must equal PRelu for them."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from facekyc.vision.onnx_prelu import split_prelu

    slope = np.array([-0.8, 0.0, 0.25, 1.12], np.float32).reshape(4, 1, 1)
    graph = helper.make_graph([helper.make_node("PRelu", ["x", "a"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 3, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 3, 3])],
                              [numpy_helper.from_array(slope, "a")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    rewritten = split_prelu(onnx.load_from_string(model.SerializeToString()))
    assert "PRelu" not in {n.op_type for n in rewritten.graph.node}
    x = np.random.default_rng(5).normal(0, 2, (1, 4, 3, 3)).astype(np.float32)
    run = ort.InferenceSession(rewritten.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = np.where(x > 0, x, slope * x)
    assert np.allclose(run.run(None, {"x": x})[0], expected, atol=1e-6)


def test_onnx_dlib_gives_dlibs_own_descriptors(engine: FaceEngine, lfw_images: Path) -> None:
    """The graph read from the .dat file must reproduce dlib's own network on the same chips, from
    several threads at once (one shared session)."""
    from facekyc.vision.recognisers.dlib_resnet import DlibNativeRecogniser, DlibResNetRecogniser

    fast, slow = DlibResNetRecogniser(), DlibNativeRecogniser()
    faces = []
    for name, i in PEOPLE:
        bgr = decode_image(_bytes(lfw_images, name, i)).bgr
        faces.append((bgr, select_subject(engine.detect(bgr), bgr.shape[1], bgr.shape[0], "primary")))
    with ThreadPoolExecutor(4) as pool:
        ours = list(pool.map(lambda bf: fast.embed(*bf), faces * 3))
    for k, (bgr, face) in enumerate(faces):
        reference = slow.embed(bgr, face)
        for copy in (ours[k], ours[k + len(faces)], ours[k + 2 * len(faces)]):
            assert copy.dtype == np.float32 and copy.shape == (128,)
            assert float(copy @ reference) > 0.99999, PEOPLE[k]


def test_a_file_that_is_not_a_dlib_network_is_refused(tmp_path: Path) -> None:
    from facekyc.vision.dlib_dnn import DlibFormatError, load_dlib_resnet

    bad = tmp_path / "bad.dat"
    bad.write_bytes(b"\x01\x15input_rgb_image_sized" + b"\x01\x02" * 8 + b"\x01\x05con_9")
    with pytest.raises(DlibFormatError):
        load_dlib_resnet(bad)
    bad.write_bytes(b"not a network")
    with pytest.raises(DlibFormatError):
        load_dlib_resnet(bad)


# ---- the cascade ---------------------------------------------------------------------------------
def test_cascade_round_trips_and_imputes_only_outside_its_band() -> None:
    cascade = Cascade(first="sface", low=0.2, high=0.6, imputed={"dlib": (0.5, 0.7)})
    assert Cascade.from_dict(cascade.to_dict()) == cascade
    assert cascade.fill({"sface": 0.1}) == {"sface": 0.1, "dlib": pytest.approx(0.75)}
    assert cascade.fill({"sface": 0.4}) == {"sface": 0.4}  # inside the band: dlib must really run
    assert cascade.fill({"sface": 0.9, "dlib": 0.2}) == {"sface": 0.9, "dlib": 0.2}  # real scores win
    with pytest.raises(ValueError):
        Cascade.from_dict({"first": "sface", "band": [0.6, 0.2], "imputed": {}})


def test_band_edges_keep_the_harm_within_budget() -> None:
    """Synthetic scores where the second model matters only in the middle: the band must cover the pairs
    whose decision it would flip, up to the allowed number of flips."""
    rng = np.random.default_rng(11)
    first = np.r_[rng.normal(0.1, 0.1, 20000), rng.normal(0.7, 0.1, 2000)]
    labels = np.r_[np.zeros(20000, bool), np.ones(2000, bool)]
    fused = first + rng.normal(0, 0.05, len(first))  # the "true" fused score
    imputed = first.copy()
    thresholds = [0.35, 0.45]
    for budget in (0, 5):
        low, high = band_edges(first, fused, imputed, labels, thresholds, budget, [budget, budget])
        assert low <= high
        alone = (first < low) | (first > high)
        for t in thresholds:
            lost = labels & alone & (fused >= t) & (imputed < t)
            gained = ~labels & alone & (fused < t) & (imputed >= t)
            assert lost.sum() <= budget and gained.sum() <= budget
        assert alone.mean() > 0.5  # most pairs are still decided by the first model alone


def test_shipped_calibration_has_a_checked_cascade() -> None:
    cal = Calibration.load()
    assert cal.cascade is not None and cal.cascade.first == "sface" and "dlib" in cal.cascade.imputed
    fused = cal.scores["fused"]
    slope, intercept = cal.cascade.imputed["dlib"]
    # at the band's edges the imputed fused score is on opposite sides of the loosest/strictest thresholds
    below = cal.fusion.fuse({"sface": cal.cascade.low, "dlib": slope * cal.cascade.low + intercept})
    above = cal.fusion.fuse({"sface": cal.cascade.high, "dlib": slope * cal.cascade.high + intercept})
    assert below < fused.threshold(1e-2) and above >= fused.threshold(1e-5)
    check = cal.provenance["check"]["cascade"]
    for target in FMR_TARGETS:  # realised on unseen people (DevTest), not where it was fitted
        realised = check["at_target"][fmr_key(target)]["devtest_fmr"]
        assert realised <= 1.5 * target, (target, realised)
    assert check["sface_alone_share"]["devtest_cross_identity_pairs"] > 0.9
    assert Calibration.from_json(cal.to_json()).cascade == cal.cascade


@pytest.fixture(scope="module")
def eager(engine: FaceEngine, lfw_images: Path) -> dict[tuple[str, int], FaceAnalysis]:
    return {(n, i): engine.analyse(_bytes(lfw_images, n, i), policy="primary") for n, i in PEOPLE}


def test_lazy_analysis_skips_dlib_and_completes_to_the_same_embedding(
        engine: FaceEngine, lfw_images: Path, eager: dict[tuple[str, int], FaceAnalysis]) -> None:
    for key, full in eager.items():
        lazy = engine.analyse(_bytes(lfw_images, *key), policy="primary", lazy=True)
        assert set(lazy.embeddings) == {"sface"} and "embed_dlib" not in lazy.timings_ms
        assert lazy.pending is not None and lazy.pending.bgr.size <= 250 * 250 * 3
        assert np.array_equal(lazy.embeddings["sface"], full.embeddings["sface"])
        assert np.array_equal(engine.template(lazy), engine.template(full))  # template completes it
        assert np.allclose(lazy.embeddings["dlib"], full.embeddings["dlib"], atol=1e-6)


def test_cascade_decisions_match_the_fused_ones_on_real_pairs(
        engine: FaceEngine, lfw_images: Path, eager: dict[tuple[str, int], FaceAnalysis]) -> None:
    cascade = engine.scorer.cascade
    assert cascade is not None
    skipped = 0
    for ka, kb in itertools.combinations(PEOPLE, 2):
        la = engine.analyse(_bytes(lfw_images, *ka), policy="primary", lazy=True)
        lb = engine.analyse(_bytes(lfw_images, *kb), policy="primary", lazy=True)
        lazy, full = engine.compare(la, lb, fmr=1e-4), engine.compare(eager[ka], eager[kb], fmr=1e-4)
        assert lazy.decision == full.decision, (ka, kb, lazy.to_dict(), full.to_dict())
        alone = cascade.decides_alone(lazy.model_scores["sface"])
        assert ("dlib" in la.embeddings) == (not alone) or "dlib" in la.embeddings
        if alone:
            skipped += 1
            assert set(lazy.model_scores) == {"sface"} and math.isfinite(lazy.score)
        else:
            assert lazy.score == pytest.approx(full.score, abs=1e-4)
    assert skipped >= 20  # of 28 pairs (2 genuine): most are decided by SFace alone


def test_a_band_covering_everything_always_runs_dlib(engine: FaceEngine,
                                                     eager: dict[tuple[str, int], FaceAnalysis]) -> None:
    cal = Calibration.load()
    assert cal.cascade is not None
    wide = Scorer(dataclasses.replace(cal, cascade=dataclasses.replace(cal.cascade, low=-2.0, high=2.0)),
                  ["sface", "dlib"])
    only_sface = {"sface": eager[PEOPLE[0]].embeddings["sface"]}
    assert wide.needs_more(only_sface, only_sface)
    with pytest.raises(KeyError):
        wide.compare(only_sface, only_sface)
    assert not engine.scorer.needs_more(eager[PEOPLE[0]].embeddings, eager[PEOPLE[2]].embeddings)


def test_many_threads_comparing_lazy_analyses_agree_with_one_thread(engine: FaceEngine, lfw_images: Path) -> None:
    lazies = [engine.analyse(_bytes(lfw_images, n, i), policy="primary", lazy=True) for n, i in PEOPLE]
    jobs = [(a, b) for a, b in itertools.combinations(range(len(lazies)), 2)] * 2
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda ab: engine.compare(lazies[ab[0]], lazies[ab[1]]).score, jobs))
    fresh = [engine.analyse(_bytes(lfw_images, n, i), policy="primary", lazy=True) for n, i in PEOPLE]
    alone = [engine.compare(fresh[a], fresh[b]).score for a, b in jobs]
    assert together == pytest.approx(alone, abs=1e-5)


# ---- draft-mode decoding -------------------------------------------------------------------------
def test_a_large_jpeg_is_decoded_small_and_still_matches(engine: FaceEngine, lfw_images: Path,
                                                        eager: dict[tuple[str, int], FaceAnalysis]) -> None:
    big = Image.open(io.BytesIO(_bytes(lfw_images, "Colin_Powell", 38))).resize((4000, 4000), Image.BICUBIC)
    buf = io.BytesIO()
    big.save(buf, format="JPEG", quality=90)
    drafted = decode_image(buf.getvalue(), draft_side=1600)
    assert drafted.original_size == (4000, 4000) and 1600 <= max(drafted.size) <= 2000
    assert decode_image(buf.getvalue()).size == (4000, 4000)  # without draft_side: full resolution
    analysis = engine.analyse(buf.getvalue(), policy="primary")
    assert analysis.image_size == drafted.size
    assert engine.compare(analysis, eager[("Colin_Powell", 74)]).decision == "match"
    assert engine.compare(analysis, eager[("Laura_Bush", 4)]).decision == "non_match"


def test_batch_scoring_runs_dlib_only_for_pairs_in_the_band(lfw_images: Path,
                                                           eager: dict[tuple[str, int], FaceAnalysis]) -> None:
    from facekyc.vision.batch import analyse_for_pairs

    scorer = Scorer(Calibration.load(), ["sface", "dlib"])
    assert scorer.cascade is not None
    path = {key: str(lfw_images / key[0] / f"{key[0]}_{key[1]:04d}.jpg") for key in PEOPLE}
    keys = list(itertools.combinations(PEOPLE, 2))
    results = analyse_for_pairs([(path[a], path[b]) for a, b in keys], scorer, workers=1)
    needed: set[str] = set()
    for a, b in keys:
        ea, eb = results[path[a]].embeddings, results[path[b]].embeddings
        assert ea is not None and eb is not None
        full = scorer.compare(eager[a].embeddings, eager[b].embeddings, 1e-3)
        assert scorer.compare(ea, eb, 1e-3).decision == full.decision, (a, b)
        if not scorer.cascade.decides_alone(full.model_scores["sface"]):
            needed |= {path[a], path[b]}
    assert {p for p, r in results.items() if r.embeddings and "dlib" in r.embeddings} == needed
