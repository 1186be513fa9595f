"""Stateless 1:1 verification (document photo vs live photo) for other points of service.

Stores nothing but an audit entry with the decision and score: no image, no template.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from facekyc.registry import audit
from facekyc.registry.scope import Scope
from facekyc.storage.db import transaction, with_retry
from facekyc.vision.engine import Comparison

if TYPE_CHECKING:
    from facekyc.registry.service import Registry


def verify_faces(registry: Registry, document_photo: bytes, live_photo: bytes, actor: str,
                 scope: Scope) -> Comparison:
    """Compare at the service FMR; the audit entry names the key's operator and store."""
    t0 = time.perf_counter()
    doc = registry.engine.analyse(document_photo, purpose="document", policy="primary", lazy=True)
    live = registry.engine.analyse(live_photo, purpose="live", policy="single", lazy=True)  # dlib if needed
    registry.metrics.engine_timings(doc.timings_ms)
    registry.metrics.engine_timings(live.timings_ms)
    result = dataclasses.replace(registry.scorer.compare(doc.embeddings, live.embeddings, registry.settings.fmr_target),
                                 quality_a=doc.quality, quality_b=live.quality)  # the current FACEKYC_MODELS
    registry.metrics.stage("verification", time.perf_counter() - t0)

    def tx() -> None:
        with transaction(registry.sessions) as session:
            audit.append(session, actor=actor, action="verification.performed", details={
                "decision": result.decision, "score": round(result.score, 4), "fmr_target": result.fmr_target,
                "quality_passed": [doc.quality.passed, live.quality.passed], "operator": scope.operator_id,
                "store": scope.store})
    with_retry(tx)
    registry.metrics.decision("verification", result.decision, [])
    return result
