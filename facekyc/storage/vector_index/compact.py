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

CHUNK_ROWS = 1 << 20
TRAIN_ROWS = 100_000
CODECS = {"int8": faiss.ScalarQuantizer.QT_8bit, "fp16": faiss.ScalarQuantizer.QT_fp16}


class _Spill:
    """Append-only float32 rows in memory-mapped chunk files, addressed by row number."""

    def __init__(self, dim: int, directory: Path | None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="facekyc-spill-", dir=directory)
        self.dim, self.rows, self._chunks = dim, 0, list[np.memmap]()

    def append(self, vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
        first, done = self.rows, 0
        while done < len(vectors):
            if self.rows == len(self._chunks) * CHUNK_ROWS:
                path = Path(self._tmp.name) / f"{len(self._chunks)}.f32"
                self._chunks.append(np.memmap(path, np.float32, "w+", shape=(CHUNK_ROWS, self.dim)))
            offset = self.rows % CHUNK_ROWS
            take = min(len(vectors) - done, CHUNK_ROWS - offset)
            self._chunks[-1][offset:offset + take] = vectors[done:done + take]
            self.rows, done = self.rows + take, done + take
        return np.arange(first, self.rows, dtype=np.int64)

    def take(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        return np.stack([self._chunks[r // CHUNK_ROWS][r % CHUNK_ROWS] for r in rows.tolist()])


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

    def rebuild_matrix(self, ids: npt.NDArray[np.int64], mat: npt.NDArray[np.float32]) -> None:
        """Bulk load without per-row Python objects (benchmarks at 10M)."""
        with self._lock:
            self._new(mat.shape[1], mat)
            assert self._index is not None and self._spill is not None
            step = 1 << 20
            for start in range(0, len(mat), step):
                part = np.ascontiguousarray(mat[start:start + step], dtype=np.float32)
                rows = self._spill.append(part)
                self._index.add_with_ids(part, rows)
            self._id_of, self._count = np.asarray(ids, dtype=np.int64).copy(), len(ids)

    def ids(self) -> set[int]:
        with self._lock:
            return set(self._id_of[self._id_of >= 0].tolist())

    def __len__(self) -> int:
        return self._count

    def __contains__(self, subscriber_id: object) -> bool:
        return isinstance(subscriber_id, int) and bool(np.any(self._id_of == subscriber_id))
