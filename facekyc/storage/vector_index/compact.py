"""Compact in-process backend: a compressed scan (faiss scalar quantiser, int8 or float16) picks
candidates, then an exact float32 re-rank orders them, so scores are exact and a duplicate is lost
only if the compressed scan ranks it below `rerank` others (measured in bench/bench_dedup.py).

The float32 originals live in memory-mapped spill files (page cache, not process heap): RAM holds
1 byte (int8) or 2 bytes (float16) per dimension per face.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from facekyc.storage.vector_index.base import Hit

TRAIN_ROWS = 100_000
CODECS = {"int8": faiss.ScalarQuantizer.QT_8bit, "fp16": faiss.ScalarQuantizer.QT_fp16}


class _Spill:
    """Append-only float32 rows in one file, read back through a read-only memory map: only the rows a
    re-rank touches are mapped into the process (the page cache may keep the rest, evictably)."""

    def __init__(self, dim: int, directory: Path | None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="facekyc-spill-", dir=directory)
        self.path = Path(self._tmp.name) / "rows.f32"
        self._file = self.path.open("ab")
        self.dim, self.rows = dim, 0
        self._map: np.memmap | None = None

    def append(self, vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
        first = self.rows
        self._file.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
        self._file.flush()
        self.rows += len(vectors)
        return np.arange(first, self.rows, dtype=np.int64)

    def take(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        if self._map is None or len(self._map) < self.rows:
            self._map = np.memmap(self.path, np.float32, "r", shape=(self.rows, self.dim))
        return np.asarray(self._map[rows], dtype=np.float32)


class CompactIndex:
    """Two-stage exact-rerank search; faiss ids are spill rows, mapped back to subscriber ids."""

    shared = False

    def __init__(self, dim: int | None = None, *, codec: str = "int8", rerank: int = 100,
                 spill_dir: Path | None = None) -> None:
        if codec not in CODECS:
            raise ValueError(f"codec must be one of {', '.join(CODECS)}")
        self.dim, self.codec, self.rerank, self.spill_dir = dim, codec, rerank, spill_dir
        self._lock = threading.Lock()
        self._id_of = np.empty(0, dtype=np.int64)  # subscriber id per spill row, -1 once removed (8 B/face)
        self._count = 0
        self._index: faiss.IndexIDMap2 | None = None
        self._spill: _Spill | None = None

    def _new(self, dim: int, sample: npt.NDArray[np.float32] | None) -> None:
        quantiser = faiss.IndexScalarQuantizer(dim, CODECS[self.codec], faiss.METRIC_INNER_PRODUCT)
        if self.codec == "int8":  # per-dimension ranges: from the data if there is enough, else the unit box
            rng = sample if sample is not None and len(sample) >= 256 else np.stack([-np.ones(dim), np.ones(dim)])
            quantiser.train(np.ascontiguousarray(rng[:TRAIN_ROWS], dtype=np.float32))
        self.dim, self._index, self._spill = dim, faiss.IndexIDMap2(quantiser), _Spill(dim, self.spill_dir)
        self._id_of, self._count = np.empty(0, dtype=np.int64), 0

    def _matrix(self, vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        mat = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        if self.dim is not None and mat.shape[1] != self.dim:
            raise ValueError(f"template has {mat.shape[1]} values, the index holds {self.dim}")
        return mat

    def _insert(self, ids: list[int], mat: npt.NDArray[np.float32]) -> None:
        assert self._index is not None and self._spill is not None
        rows = self._spill.append(mat)
        self._index.add_with_ids(mat, rows)
        self._id_of = np.concatenate([self._id_of, np.asarray(ids, dtype=np.int64)])
        self._count += len(ids)

    def add(self, subscriber_id: int, template: npt.NDArray[np.float32]) -> None:
        mat = self._matrix(template)
        with self._lock:
            if self._index is None:
                self._new(mat.shape[1], None)
            self._drop(subscriber_id)
            self._insert([subscriber_id], mat)

    def _drop(self, subscriber_id: int) -> None:
        """O(n) scan: erasures and re-enrolments are rare next to searches."""
        rows = np.flatnonzero(self._id_of == subscriber_id)
        if len(rows) and self._index is not None:
            self._index.remove_ids(rows.astype(np.int64))  # type: ignore[arg-type]
            self._id_of[rows] = -1
            self._count -= len(rows)

    def remove(self, subscriber_id: int) -> None:
        with self._lock:
            self._drop(subscriber_id)

    def search(self, template: npt.NDArray[np.float32], k: int) -> list[Hit]:
        query = self._matrix(template)
        with self._lock:
            if self._index is None or not self._count:
                return []
            _, rows = self._index.search(query, min(max(k, self.rerank), self._count))
            found = rows[0][rows[0] >= 0]
            assert self._spill is not None
            exact = self._spill.take(found) @ query[0]
            ids = self._id_of[found].tolist()
        order = np.argsort(-exact, kind="stable")[:k]
        return [Hit(ids[i], float(exact[i])) for i in order]

    def rebuild(self, items: Iterable[tuple[int, npt.NDArray[np.float32]]]) -> None:
        pairs = list(items)
        with self._lock:
            if not pairs:
                self._index, self._spill, self._id_of, self._count = None, None, np.empty(0, np.int64), 0
                return
            mat = self._matrix(np.stack([t for _, t in pairs]))
            self._new(mat.shape[1], mat)
            self._insert([sid for sid, _ in pairs], mat)

    def bulk_load(self, chunks: Iterable[tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]]) -> None:
        """Replace the content from (ids, matrix) chunks without per-row Python objects (millions of rows);
        int8 ranges are trained on the first chunk."""
        with self._lock:
            self._index = None
            all_ids: list[npt.NDArray[np.int64]] = []
            for ids, mat in chunks:
                part = self._matrix(mat)
                if self._index is None:
                    self._new(part.shape[1], part)
                assert self._index is not None and self._spill is not None
                self._index.add_with_ids(part, self._spill.append(part))
                all_ids.append(np.asarray(ids, dtype=np.int64))
            self._id_of = np.concatenate(all_ids) if all_ids else np.empty(0, np.int64)
            self._count = len(self._id_of)

    def ids(self) -> set[int]:
        with self._lock:
            return set(self._id_of[self._id_of >= 0].tolist())

    def __len__(self) -> int:
        return self._count

    def __contains__(self, subscriber_id: object) -> bool:
        return isinstance(subscriber_id, int) and bool(np.any(self._id_of == subscriber_id))
