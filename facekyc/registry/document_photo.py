"""Stateless document-photo check: where the face is on a card image or chip portrait, and whether it is usable.

Not a biometric comparison and no personal data is kept: no image, no template, no database row
and no audit entry are written; only the in-memory latency metrics are updated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from facekyc.vision.quality import QualityReport

if TYPE_CHECKING:
    from facekyc.registry.service import Registry


@dataclass(frozen=True)
class DocumentPhotoCheck:
    """The subject's face on a document photo (pixel coordinates of the decoded image) and its quality."""

    image_size: tuple[int, int]
    box: tuple[float, float, float, float]
    landmarks: list[tuple[float, float]]
    confidence: float
    faces_found: int
    quality: QualityReport

    @property
    def usable(self) -> bool:
        """True when every quality component passed at the document limits."""
        return self.quality.passed


def check_document_photo(registry: Registry, photo: bytes) -> DocumentPhotoCheck:
    """Find and assess the face as a registration would (document purpose, primary face); stores nothing."""
    t0 = time.perf_counter()
    analysis = registry.engine.analyse(photo, purpose="document", policy="primary")
    registry.metrics.stage("document_photo_check", time.perf_counter() - t0)
    registry.metrics.engine_timings(analysis.timings_ms)
    face = analysis.face
    return DocumentPhotoCheck(
        image_size=analysis.image_size, box=clip_box(face.box, analysis.image_size),
        landmarks=[(round(float(px), 1), round(float(py), 1)) for px, py in face.landmarks],
        confidence=round(float(face.score), 4), faces_found=analysis.faces_found, quality=analysis.quality)


def clip_box(box: tuple[float, float, float, float], size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The (x, y, w, h) box cut to the image (a detector box may reach past an edge), rounded to 0.1 px."""
    x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
    x1, y1 = min(float(size[0]), float(box[0] + box[2])), min(float(size[1]), float(box[1] + box[3]))
    return round(x0, 1), round(y0, 1), round(max(0.0, x1 - x0), 1), round(max(0.0, y1 - y0), 1)
