"""The face engine: bytes or pixels in, a FaceAnalysis or a calibrated Comparison out.

detect -> select the subject -> quality -> embed with every recogniser -> compare and fuse.
Nothing here knows about HTTP, databases or files beyond the bundled models.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from facekyc.errors import FaceTooSmall, MultipleFaces, NoFace
from facekyc.vision.align import arcface_crop
from facekyc.vision.calibration import Calibration
from facekyc.vision.detect import DlibDetector, Face, YuNetDetector, detect_padded
from facekyc.vision.image import DEFAULT_MAX_PIXELS, decode_image
from facekyc.vision.quality import Purpose, QualityReport, assess_quality
from facekyc.vision.recognisers.base import Recogniser

FacePolicy = Literal["single", "primary"]
SECOND_FACE_AREA_RATIO = 0.4  # a second face this large (vs the subject's) makes the subject ambiguous
MIN_INTER_EYE_PX = 10.0  # below this no recogniser produces anything meaningful
DRAFT_SIDE = 1600  # large JPEGs are decoded at 1/2..1/8 scale down to this longer side (faces stay large)


@dataclass(frozen=True)
class FaceAnalysis:
    """The subject's face in one image, with its quality and one embedding per recogniser."""

    face: Face
    faces_found: int
    quality: QualityReport
    embeddings: dict[str, np.ndarray]
    image_size: tuple[int, int]
    timings_ms: dict[str, float] = field(default_factory=dict)
    pending: PendingFace | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class PendingFace:
    """What a lazy analysis keeps to embed later with the models it skipped: the pixels around the
    face only (not the whole image), and the face in that region's coordinates."""

    bgr: np.ndarray
    face: Face

    @classmethod
    def around(cls, bgr: np.ndarray, face: Face, margin: float = 1.0) -> PendingFace:
        """The face's box grown by `margin` box sizes on every side (enough for any model's crop)."""
        x, y, w, h = face.box
        x0, y0 = max(0, int(x - margin * w)), max(0, int(y - margin * h))
        x1 = min(bgr.shape[1], int(np.ceil(x + w + margin * w)))
        y1 = min(bgr.shape[0], int(np.ceil(y + h + margin * h)))
        shifted = dataclasses.replace(face, box=(x - x0, y - y0, w, h),
                                      landmarks=face.landmarks - np.array([x0, y0], np.float64))
        return cls(bgr=np.ascontiguousarray(bgr[y0:y1, x0:x1]), face=shifted)


@dataclass(frozen=True)
class Comparison:
    """A 1:1 decision at a stated FMR operating point."""

    score: float
    decision: Literal["match", "non_match"]
    fmr_target: float
    threshold: float
    estimated_fmr: float
    model_scores: dict[str, float]
    quality_a: QualityReport | None = None
    quality_b: QualityReport | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "score": round(self.score, 4),
            "decision": self.decision,
            "fmr_target": self.fmr_target,
            "threshold": round(self.threshold, 4),
            "estimated_fmr": self.estimated_fmr,
            "model_scores": {k: round(v, 4) for k, v in self.model_scores.items()},
        }
        if self.quality_a is not None:
            out["quality_a"] = self.quality_a.to_dict()
        if self.quality_b is not None:
            out["quality_b"] = self.quality_b.to_dict()
        return out


def default_recognisers(names: Sequence[str] = ("sface", "dlib")) -> list[Recogniser]:
    """Instantiate recognisers by name (the registry of available models)."""
    from facekyc.vision.recognisers.dlib_resnet import DlibNativeRecogniser, DlibResNetRecogniser
    from facekyc.vision.recognisers.sface import SFaceRecogniser
    from facekyc.vision.recognisers.sface_onnx import SFaceFloatRecogniser, SFaceOnnxRecogniser

    # "sface" (int8) and "dlib" run in onnxruntime; "sface-fp32", "sface-opencv" and "dlib-native" are
    # the references they are tested against (float32 SFace, the same through OpenCV, dlib itself)
    known: dict[str, type] = {"sface": SFaceOnnxRecogniser, "sface-fp32": SFaceFloatRecogniser,
                              "sface-opencv": SFaceRecogniser, "dlib": DlibResNetRecogniser,
                              "dlib-native": DlibNativeRecogniser}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown recogniser(s) {unknown}; available: {sorted(known)}")
    return [known[n]() for n in names]


class FaceEngine:
    """Thread-safe face engine holding the loaded models (load once per process)."""

    def __init__(self, recognisers: Sequence[Recogniser] | None = None, calibration: Calibration | None = None,
                 *, dlib_fallback: bool = True, max_pixels: int = DEFAULT_MAX_PIXELS,
                 threads: int | None = 1) -> None:
        if threads is not None:
            cv2.setNumThreads(threads)
        self.detector = YuNetDetector()
        self._use_fallback = dlib_fallback
        self._fallback: DlibDetector | None = None
        self._fallback_lock = threading.Lock()
        self.recognisers = list(recognisers) if recognisers is not None else default_recognisers()
        self.calibration = calibration or Calibration.load()
        self.max_pixels = max_pixels
        self.scorer = Scorer(self.calibration, self.model_names)

    @property
    def fallback(self) -> DlibDetector | None:
        """dlib's HOG detector, built on first use: YuNet finds the face almost always, and building
        it costs about a third of a second per process (every batch worker)."""
        if not self._use_fallback:
            return None
        with self._fallback_lock:
            if self._fallback is None:
                self._fallback = DlibDetector()
            return self._fallback

    @property
    def model_names(self) -> list[str]:
        return [r.name for r in self.recognisers]

    # ---- one image -------------------------------------------------------------------------
    def detect(self, bgr: np.ndarray) -> list[Face]:
        """YuNet first, then YuNet on a border-padded copy (a face filling the image), then dlib's detector."""
        faces = self.detector.detect(bgr)
        if not faces:
            faces = detect_padded(self.detector.detect, bgr)
        if not faces and self.fallback is not None:
            faces = self.fallback.detect(bgr)
        return faces

    def analyse(self, image: bytes | np.ndarray, *, purpose: Purpose = "any",
                policy: FacePolicy = "single", lazy: bool = False,
                only: Sequence[str] | None = None) -> FaceAnalysis:
        """Decode (if bytes), find the subject, assess quality and embed with every recogniser (or the
        `only` ones); with `lazy` and a cascade, only with its first model (compare/template/complete
        add the rest)."""
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        bgr = decode_image(image, max_pixels=self.max_pixels, draft_side=DRAFT_SIDE).bgr \
            if isinstance(image, bytes | bytearray) \
            else np.ascontiguousarray(image)
        t1 = time.perf_counter()
        timings["decode"] = (t1 - t0) * 1000
        faces = self.detect(bgr)
        t2 = time.perf_counter()
        timings["detect"] = (t2 - t1) * 1000
        face = select_subject(faces, bgr.shape[1], bgr.shape[0], policy)
        crop = arcface_crop(bgr, face.landmarks)
        t3 = time.perf_counter()
        timings["align"] = (t3 - t2) * 1000
        quality = assess_quality(bgr, face, purpose, crop=crop)
        t4 = time.perf_counter()
        timings["quality"] = (t4 - t3) * 1000
        cascade = self.scorer.cascade
        deferred = lazy and cascade is not None
        wanted = set(only if only is not None else self.model_names)
        if deferred and cascade is not None:
            wanted &= {cascade.first}
        embeddings: dict[str, np.ndarray] = {}
        for rec in self.recognisers:
            if rec.name not in wanted:
                continue
            ts = time.perf_counter()
            embeddings[rec.name] = rec.embed(bgr, face)
            timings[f"embed_{rec.name}"] = (time.perf_counter() - ts) * 1000
        return FaceAnalysis(face=face, faces_found=len(faces), quality=quality, embeddings=embeddings,
                            image_size=(int(bgr.shape[1]), int(bgr.shape[0])), timings_ms=timings,
                            pending=PendingFace.around(bgr, face) if deferred else None)

    def complete(self, analysis: FaceAnalysis) -> FaceAnalysis:
        """Add the embeddings a lazy analysis skipped (in place; idempotent, safe to race)."""
        pending = analysis.pending
        for rec in self.recognisers:
            if rec.name not in analysis.embeddings:
                if pending is None:
                    raise ValueError(f"analysis has no {rec.name} embedding and no pixels to make it")
                analysis.embeddings[rec.name] = rec.embed(pending.bgr, pending.face)
        return analysis

    # ---- comparisons -----------------------------------------------------------------------
    def compare_embeddings(self, a: dict[str, np.ndarray], b: dict[str, np.ndarray],
                           fmr: float = 1e-3) -> Comparison:
        """Decision between two sets of embeddings at the target FMR."""
        return self.scorer.compare(a, b, fmr)

    def compare(self, a: FaceAnalysis, b: FaceAnalysis, fmr: float = 1e-3) -> Comparison:
        """1:1 comparison of two analysed faces, with both quality reports attached; lazy analyses
        get their skipped embeddings only when the cascade's first model cannot decide alone."""
        if self.scorer.needs_more(a.embeddings, b.embeddings):
            self.complete(a)
            self.complete(b)
        result = self.scorer.compare(a.embeddings, b.embeddings, fmr)
        return dataclasses.replace(result, quality_a=a.quality, quality_b=b.quality)

    def template(self, analysis: FaceAnalysis) -> np.ndarray:
        """The storage/search template of an analysed face (see Scorer.template)."""
        return self.scorer.template(self.complete(analysis).embeddings)


class Scorer:
    """Calibrated scoring of embeddings; needs no model, so batch jobs and the registry share it."""

    def __init__(self, calibration: Calibration, model_names: Sequence[str]) -> None:
        self.calibration = calibration
        self.model_names = list(model_names)
        fused = set(calibration.fusion.models) <= set(self.model_names) and len(self.model_names) > 1
        self.score_name = "fused" if fused else self.model_names[0]
        cascade = calibration.cascade
        self.cascade = cascade if fused and cascade is not None and cascade.first in self.model_names else None

    def needs_more(self, a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
        """True when the decision score needs embeddings missing from a or b (see Cascade)."""
        wanted = self.calibration.fusion.models if self.score_name == "fused" else (self.score_name,)
        if all(m in a and m in b for m in wanted):
            return False
        first = self.cascade.first if self.cascade is not None else None
        if self.cascade is None or first not in a or first not in b:
            return True
        return not self.cascade.decides_alone(float(np.dot(a[first], b[first])))

    def model_scores(self, a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, float]:
        """Cosine similarity per recogniser present in both."""
        return {name: float(np.dot(a[name], b[name])) for name in self.model_names if name in a and name in b}

    def score(self, model_scores: dict[str, float]) -> float:
        """The decision score: fused when every fused model is present, else the single model's."""
        if self.score_name == "fused":
            filled = self.cascade.fill(model_scores) if self.cascade is not None else model_scores
            return self.calibration.fusion.fuse(filled)
        return model_scores[self.score_name]

    def threshold(self, fmr: float) -> float:
        """Decision threshold on `score` for a target FMR."""
        return self.calibration.scores[self.score_name].threshold(fmr)

    def compare(self, a: dict[str, np.ndarray], b: dict[str, np.ndarray], fmr: float = 1e-3) -> Comparison:
        """Decision between two sets of embeddings at the target FMR."""
        scores = self.model_scores(a, b)
        value = self.score(scores)
        threshold = self.threshold(fmr)
        return Comparison(score=value, decision="match" if value >= threshold else "non_match",
                          fmr_target=fmr, threshold=threshold,
                          estimated_fmr=self.calibration.scores[self.score_name].estimated_fmr(value),
                          model_scores=scores)

    def template(self, embeddings: dict[str, np.ndarray]) -> np.ndarray:
        """One float32 vector for storage and exact inner-product search: each model's embedding
        scaled by sqrt(fusion weight), concatenated, so a . b = fused score - bias."""
        weights = self.calibration.fusion.template_weights() if self.score_name == "fused" \
            else {self.score_name: 1.0}
        return np.concatenate([embeddings[m] * weights[m] for m in weights]).astype(np.float32)

    def template_score(self, inner_product: float) -> float:
        """Turn a template inner product back into the decision score."""
        if self.score_name == "fused":
            return float(inner_product + self.calibration.fusion.bias)
        return float(inner_product)


def select_subject(faces: Sequence[Face], width: int, height: int, policy: FacePolicy) -> Face:
    """The subject's face: the largest, most central one. With policy 'single' a second face of
    comparable size is refused (whose face is it?); 'primary' takes the best candidate."""
    if not faces:
        raise NoFace("no face found in the image")
    cx, cy = width / 2.0, height / 2.0
    diag2 = float(width * width + height * height)

    def weight(f: Face) -> float:
        dx, dy = f.center[0] - cx, f.center[1] - cy
        return f.area * math.exp(-25.0 * (dx * dx + dy * dy) / diag2)

    ranked = sorted(faces, key=weight, reverse=True)
    subject = ranked[0]
    if policy == "single":
        rivals = [f for f in ranked[1:] if f.area >= SECOND_FACE_AREA_RATIO * subject.area and f.score >= 0.8]
        if rivals:
            raise MultipleFaces(f"{1 + len(rivals)} faces of similar size: only the customer may be in view")
    if subject.inter_eye < MIN_INTER_EYE_PX:
        raise FaceTooSmall(f"face too small ({subject.inter_eye:.0f} px between the eyes)")
    return subject
