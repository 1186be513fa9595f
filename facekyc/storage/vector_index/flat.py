"""The embedded default backend: exact inner-product search in process memory (faiss, float32)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import faiss
import numpy as np
import numpy.typing as npt

from facekyc.storage.vector_index.base import Hit


class FlatIPIndex:
    """Exact search: faiss IndexIDMap2(IndexFlatIP), guarded by a lock (faiss writes are not thread-safe).

    The dimension may be left open and is then taken from the first template."""

    shared = False

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim
        self._lock = threading.Lock()
        self._ids: set[int] = set()
        self._index = self._empty() if dim else None

    def _empty(self) -> faiss.IndexIDMap2:
        assert self.dim is not None
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _vector(self, template: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        vec = np.ascontiguousarray(template, dtype=np.float32).reshape(1, -1)
        if self.dim is None:
            self.dim = int(vec.shape[1])
        if vec.shape[1] != self.dim:
            raise ValueError(f"template has {vec.shape[1]} values, the index holds {self.dim}")
        return vec

    def add(self, subscriber_id: int, template: npt.NDArray[np.float32]) -> None:
        vec = self._vector(template)
        with self._lock:
            if self._index is None:
                self._index = self._empty()
            if subscriber_id in self._ids:
                self._index.remove_ids(np.array([subscriber_id], dtype=np.int64))  # type: ignore[arg-type]
            self._index.add_with_ids(vec, np.array([subscriber_id], dtype=np.int64))
            self._ids.add(subscriber_id)

    def remove(self, subscriber_id: int) -> None:
        with self._lock:
            if subscriber_id in self._ids and self._index is not None:
                self._index.remove_ids(np.array([subscriber_id], dtype=np.int64))  # type: ignore[arg-type]
                self._ids.discard(subscriber_id)

    def search(self, template: npt.NDArray[np.float32], k: int) -> list[Hit]:
        vec = self._vector(template)
        with self._lock:
            if not self._ids or self._index is None:
                return []
            scores, ids = self._index.search(vec, min(k, len(self._ids)))
        return [Hit(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]

    def rebuild(self, items: Iterable[tuple[int, npt.NDArray[np.float32]]]) -> None:
        ids: set[int] = set()
        batch_ids: list[int] = []
        batch: list[npt.NDArray[np.float32]] = []
        for subscriber_id, template in items:
            batch_ids.append(subscriber_id)
            batch.append(self._vector(template)[0])
            ids.add(subscriber_id)
        index = self._empty() if self.dim else None
        if batch and index is not None:
            index.add_with_ids(np.stack(batch), np.array(batch_ids, dtype=np.int64))
        with self._lock:
            self._index, self._ids = index, ids

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, subscriber_id: object) -> bool:
        return subscriber_id in self._ids

    def ids(self) -> set[int]:
        with self._lock:
            return set(self._ids)
