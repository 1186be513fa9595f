"""Score many image pairs on all cores: one engine per worker process, images analysed once each."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facekyc.errors import FaceKycError
from facekyc.vision.engine import FaceEngine, Scorer, default_recognisers

_ENGINE: FaceEngine | None = None


@dataclass(frozen=True)
class ImageResult:
    """Embeddings of one image, or the typed error code that stopped it."""

    path: str
    embeddings: dict[str, np.ndarray] | None
    error: str | None


def _init_worker(models: tuple[str, ...] = ("sface", "dlib")) -> None:
    global _ENGINE
    _ENGINE = FaceEngine(recognisers=default_recognisers(models), threads=1)


def analyse_path(path: str, only: tuple[str, ...] | None = None) -> ImageResult:
    """Analyse one file in a worker (policy 'primary': pick the subject even in a crowd), embedding
    with every loaded model or the `only` ones."""
    assert _ENGINE is not None
    try:
        data = Path(path).read_bytes()
    except OSError:
        return ImageResult(path, None, "file_not_found")
    try:
        analysis = _ENGINE.analyse(data, policy="primary", only=only)
    except FaceKycError as exc:
        return ImageResult(path, None, exc.code)
    return ImageResult(path, analysis.embeddings, None)


def _analyse_job(job: tuple[str, tuple[str, ...]]) -> ImageResult:
    return analyse_path(*job)


def analyse_paths(paths: Sequence[str], workers: int | None = None,
                  progress: Callable[[int], None] | None = None,
                  models: Sequence[str] = ("sface", "dlib")) -> dict[str, ImageResult]:
    """Analyse each distinct path once, in `workers` processes (default: all cores), with `models`."""
    with _Pool(workers, len(set(paths)), tuple(models)) as pool:
        return pool.analyse(paths, tuple(models), progress)


def preload_model_code() -> None:
    """Import the model libraries once here, before the workers fork, so none pays for it again
    (`onnx` alone takes ~0.7 s to import; the dlib graph is built with it)."""
    for module in ("dlib", "onnxruntime", "facekyc.vision.dlib_dnn"):
        importlib.import_module(module)


class _Pool:
    """Worker processes that each load the models once (or this process, for one worker)."""

    def __init__(self, workers: int | None, jobs: int, models: tuple[str, ...]) -> None:
        self.size = max(1, min(workers or os.cpu_count() or 1, jobs or 1))
        self.executor: ProcessPoolExecutor | None = None
        if self.size == 1:
            _init_worker(models)
        else:
            preload_model_code()
            self.executor = ProcessPoolExecutor(max_workers=self.size, initializer=_init_worker,
                                                initargs=(models,))

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.executor is not None:
            self.executor.shutdown()

    def analyse(self, paths: Sequence[str], only: tuple[str, ...],
                progress: Callable[[int], None] | None = None) -> dict[str, ImageResult]:
        """Each distinct path once, embedded with the `only` models."""
        jobs = [(p, only) for p in dict.fromkeys(paths)]
        iterator: Iterable[ImageResult] = map(_analyse_job, jobs) if self.executor is None \
            else self.executor.map(_analyse_job, jobs, chunksize=8)
        results: dict[str, ImageResult] = {}
        for res in iterator:
            results[res.path] = res
            if progress:
                progress(1)
        return results


def analyse_for_pairs(pairs: Sequence[tuple[str, str]], scorer: Scorer, workers: int | None = None,
                      models: Sequence[str] = ("sface", "dlib"),
                      progress: Callable[[int], None] | None = None) -> dict[str, ImageResult]:
    """Embeddings for scoring `pairs` with `scorer`: with a cascade, every image gets the first model
    and only images in a pair it cannot decide alone get the others (a second pass re-detects them,
    in the same worker processes; `progress` counts the first pass, one call per image)."""
    paths = [p for pair in pairs for p in pair]
    cascade = scorer.cascade
    if cascade is None:
        return analyse_paths(paths, workers=workers, models=models, progress=progress)
    with _Pool(workers, len(set(paths)), tuple(models)) as pool:
        results = pool.analyse(paths, (cascade.first,), progress)
        need = [p for a, b in pairs if (ea := results[a].embeddings) is not None
                and (eb := results[b].embeddings) is not None and scorer.needs_more(ea, eb) for p in (a, b)]
        others = tuple(m for m in models if m != cascade.first)
        if need and others:
            for path, extra in pool.analyse(need, others).items():
                base = results[path].embeddings
                if base is not None and extra.embeddings is not None:
                    base.update(extra.embeddings)
                elif base is not None:  # the second pass failed where the first did not (never expected)
                    results[path] = extra
    return results
