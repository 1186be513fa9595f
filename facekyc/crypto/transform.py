"""A secret, renewable rotation of face templates before they leave the process (external vector index).

An orthogonal matrix Q preserves inner products (Qa . Qb = a . b), so search results and scores are
unchanged, but a vector stored in Milvus is useless against templates of any other system, or of
this one under another key or version. Q is drawn from a seed derived (HKDF) from the keyring's
index key and a version number kept in the database; `facekyc keys rotate-transform` bumps the
version and re-projects the external index.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

from facekyc.crypto.wrapping import hkdf

_INFO = b"facekyc vector transform v1"


class KeyedRotation:
    """x -> x @ Q.T with Q orthogonal, derived from (key, version, dimension); cached per dimension."""

    def __init__(self, key: bytes, version: int) -> None:
        if version < 1:
            raise ValueError("transform versions start at 1")
        self.version = version
        self._key = key
        self._matrices: dict[int, npt.NDArray[np.float32]] = {}
        self._lock = threading.Lock()

    def matrix(self, dim: int) -> npt.NDArray[np.float32]:
        with self._lock:
            if dim not in self._matrices:
                seed = hkdf(self._key, _INFO + f":{self.version}:{dim}".encode())
                rng = np.random.Generator(np.random.PCG64(int.from_bytes(seed, "big")))
                q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
                self._matrices[dim] = (q * np.sign(np.diag(r))).astype(np.float32)
            return self._matrices[dim]

    def __call__(self, vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Rotate one vector or a batch (rows)."""
        vecs = np.asarray(vectors, dtype=np.float32)
        rotated = np.atleast_2d(vecs) @ self.matrix(vecs.shape[-1]).T
        return rotated.reshape(vecs.shape).astype(np.float32)
