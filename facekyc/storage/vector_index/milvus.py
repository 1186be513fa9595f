"""Milvus behind `VectorIndex`: Milvus Lite (a local file, embedded) or a Milvus Standalone/Distributed server.

Only rotated vectors are sent (`transform`, a secret orthogonal map from facekyc.crypto.transform), so
what Milvus stores cannot be matched against templates of any other system. Exact search (FLAT,
inner product) with strong consistency: a search sees every write acknowledged before it.
The collection is shared by every server process, so this backend is `shared`: the index feed
applies each event once, under a database lock, instead of rebuilding at every start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from facekyc.storage.vector_index.base import Hit

Transform = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]
BATCH = 2_000


def _retry_once(call: Callable[[], Any]) -> Any:
    """One retry: an idle gRPC channel may have been closed by the server (GOAWAY after keepalive
    pings: Milvus Lite's server allows fewer than pymilvus sends); the retry reconnects."""
    try:
        return call()
    except Exception as exc:  # pymilvus raises MilvusException or grpc.RpcError here
        if "UNAVAILABLE" not in str(exc).upper() and "GOAWAY" not in str(exc).upper():
            raise
        return call()


class MilvusIndex:
    """One collection `id INT64 primary, v FLOAT_VECTOR(dim)`, FLAT/IP, strong consistency."""

    shared = True

    def __init__(self, uri: str, collection: str, transform: Transform, *, index_type: str = "FLAT",
                 client: Any = None) -> None:
        from pymilvus import MilvusClient

        self.uri, self.collection, self.transform, self.index_type = uri, collection, transform, index_type
        self.client = client if client is not None else MilvusClient(uri)
        self.dim: int | None = None
        self._lock = threading.Lock()
        if self.client.has_collection(collection):
            fields = self.client.describe_collection(collection)["fields"]
            self.dim = next(int(f["params"]["dim"]) for f in fields if f["name"] == "v")
            self.client.load_collection(collection)

    @property
    def transform_version(self) -> int | None:
        """The version of the keyed transform these vectors are under (None if the transform has none)."""
        version = getattr(self.transform, "version", None)
        return None if version is None else int(version)

    def _create(self, dim: int) -> None:
        from pymilvus import DataType, MilvusClient

        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("v", DataType.FLOAT_VECTOR, dim=dim)
        params = self.client.prepare_index_params()
        params.add_index("v", index_type=self.index_type, metric_type="IP")
        try:
            self.client.create_collection(self.collection, schema=schema, index_params=params,
                                          consistency_level="Strong")
        except Exception as exc:  # another process (a worker, a replica) created it a moment before us
            if "already exists" not in str(exc):
                raise
            self.client.load_collection(self.collection)
        self.dim = dim

    def _rows(self, items: Iterable[tuple[int, npt.NDArray[np.float32]]]) -> list[dict[str, Any]]:
        pairs = list(items)
        if not pairs:
            return []
        rotated = self.transform(np.stack([np.asarray(t, np.float32) for _, t in pairs]))
        if self.dim is None:
            self._create(int(rotated.shape[1]))
        if rotated.shape[1] != self.dim:
            raise ValueError(f"template has {rotated.shape[1]} values, the collection holds {self.dim}")
        return [{"id": int(i), "v": v.tolist()} for (i, _), v in zip(pairs, rotated, strict=True)]

    def add(self, subscriber_id: int, template: npt.NDArray[np.float32]) -> None:
        with self._lock:
            rows = self._rows([(subscriber_id, template)])
            _retry_once(lambda: self.client.upsert(self.collection, rows))

    def remove(self, subscriber_id: int) -> None:
        with self._lock:
            if self.dim is not None:
                _retry_once(lambda: self.client.delete(self.collection, ids=[int(subscriber_id)]))

    def search(self, template: npt.NDArray[np.float32], k: int) -> list[Hit]:
        if self.dim is None:
            return []
        query = self.transform(np.asarray(template, np.float32).reshape(1, -1))
        found = _retry_once(lambda: self.client.search(
            self.collection, data=query.tolist(), limit=k, anns_field="v", output_fields=[],
            search_params={"metric_type": "IP"}, consistency_level="Strong"))
        return [Hit(int(h["id"]), float(h["distance"])) for h in found[0]]

    def rebuild(self, items: Iterable[tuple[int, npt.NDArray[np.float32]]]) -> None:
        with self._lock:
            if self.client.has_collection(self.collection):
                self.client.drop_collection(self.collection)
            self.dim = None
            batch: list[tuple[int, npt.NDArray[np.float32]]] = []
            for item in items:
                batch.append(item)
                if len(batch) == BATCH:
                    self.client.insert(self.collection, self._rows(batch))
                    batch = []
            if batch:
                self.client.insert(self.collection, self._rows(batch))

    def ids(self) -> set[int]:
        if self.dim is None:
            return set()
        found: set[int] = set()
        iterator = self.client.query_iterator(self.collection, batch_size=BATCH, filter="id >= 0",
                                              output_fields=["id"], consistency_level="Strong")
        while page := iterator.next():
            found.update(int(r["id"]) for r in page)
        iterator.close()
        return found

    def __len__(self) -> int:
        if self.dim is None:
            return 0
        rows = _retry_once(lambda: self.client.query(self.collection, filter="", output_fields=["count(*)"],
                                                     consistency_level="Strong"))
        return int(rows[0]["count(*)"])

    def __contains__(self, subscriber_id: object) -> bool:
        if self.dim is None or not isinstance(subscriber_id, int):
            return False
        return bool(self.client.get(self.collection, ids=[subscriber_id], output_fields=["id"]))

    def drop(self) -> None:
        """Delete the collection (after a transform rotation moved to a new one)."""
        if self.client.has_collection(self.collection):
            self.client.drop_collection(self.collection)
        self.dim = None


def is_lite_file(uri: str) -> bool:
    """A local path means Milvus Lite; a URL (http, https, tcp, unix) a Milvus server."""
    return "://" not in uri and not uri.startswith("unix:")


def host_lite(path: str) -> str:
    """Serve a Milvus Lite file from this process over loopback gRPC and return its URL.

    A Milvus Lite file is locked by the one process that opens it, so `serve --workers N` opens it in
    the supervising process and hands the workers this URL instead of the path."""
    from milvus_lite.server_manager import server_manager_instance

    uri = server_manager_instance.start_and_get_uri(path)
    if uri is None:
        raise RuntimeError(f"Milvus Lite could not open {path} (is another process holding it?)")
    return str(uri)
