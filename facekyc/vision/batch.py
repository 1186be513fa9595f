"""Score many image pairs on all cores: one engine per worker process, images analysed once each."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facekyc.errors import FaceKycError
from facekyc.vision.engine import FaceEngine, default_recognisers

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


def analyse_path(path: str) -> ImageResult:
    """Analyse one file in a worker (policy 'primary': pick the subject even in a crowd)."""
    assert _ENGINE is not None
    try:
        data = Path(path).read_bytes()
    except OSError:
        return ImageResult(path, None, "file_not_found")
    try:
        analysis = _ENGINE.analyse(data, policy="primary")
    except FaceKycError as exc:
        return ImageResult(path, None, exc.code)
    return ImageResult(path, analysis.embeddings, None)


def analyse_paths(paths: Sequence[str], workers: int | None = None,
                  progress: Callable[[int], None] | None = None,
                  models: Sequence[str] = ("sface", "dlib")) -> dict[str, ImageResult]:
    """Analyse each distinct path once, in `workers` processes (default: all cores), with `models`."""
    unique = list(dict.fromkeys(paths))
    n = max(1, min(workers or os.cpu_count() or 1, len(unique) or 1))
    results: dict[str, ImageResult] = {}
    if n == 1:
        _init_worker(tuple(models))
        iterator: Iterable[ImageResult] = map(analyse_path, unique)
        for res in iterator:
            results[res.path] = res
            if progress:
                progress(1)
        return results
    with ProcessPoolExecutor(max_workers=n, initializer=_init_worker, initargs=(tuple(models),)) as pool:
        for res in pool.map(analyse_path, unique, chunksize=8):
            results[res.path] = res
            if progress:
                progress(1)
    return results
