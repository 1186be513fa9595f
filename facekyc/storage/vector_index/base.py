"""What every face-index backend offers: one small protocol, the search hit it returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Hit:
    """One search result: the subscriber row id and the raw inner product with its template."""

    subscriber_id: int
    inner_product: float


class VectorIndex(Protocol):
    """What registration needs from a face index; backends live one per module (flat, compact, milvus).

    `shared` is True when every server process talks to the same index (an external engine): events are
    then applied once, under a database lock, and the index outlives restarts."""

    shared: bool

    def add(self, subscriber_id: int, template: npt.NDArray[np.float32]) -> None:
        """Insert or replace the template of one subscriber."""
        ...

    def remove(self, subscriber_id: int) -> None:
        """Forget a subscriber (no-op if absent)."""
        ...

    def search(self, template: npt.NDArray[np.float32], k: int) -> list[Hit]:
        """The k templates with the highest inner product, best first."""
        ...

    def rebuild(self, items: Iterable[tuple[int, npt.NDArray[np.float32]]]) -> None:
        """Replace the whole content."""
        ...

    def __len__(self) -> int: ...

    def __contains__(self, subscriber_id: object) -> bool: ...

    def ids(self) -> set[int]:
        """Every subscriber id held (for drift reports)."""
        ...
