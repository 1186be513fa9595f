"""Optional image retention (Settings.retain_images_days > 0): images sealed under their own data key,
deleted by `purge_due` when their time is up (also run periodically inside `facekyc serve`), together
with the review evidence of cases open past `review_evidence_max_days` (see `evidence`)."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete

from facekyc.registry import audit, evidence
from facekyc.storage.db import transaction, with_retry
from facekyc.storage.models import RetainedImage, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from facekyc.registry.service import Registry

log = logging.getLogger("facekyc.retention")


def retain_image(registry: Registry, session: Session, owner: str, kind: str, image: bytes) -> RetainedImage:
    """Seal one image for the configured number of days, inside the caller's transaction."""
    row_id = "img_" + secrets.token_hex(12)
    key, wrapped = registry.vault.new_key(f"retained:{row_id}")
    now = utcnow()
    row = RetainedImage(id=row_id, registration_id=owner, kind=kind, wrapped_key=wrapped,
                        ciphertext=registry.vault.seal(key, image, f"retained:{row_id}", "image"), created_at=now,
                        purge_after=now + timedelta(days=registry.settings.retain_images_days))
    session.add(row)
    return row


def open_image(registry: Registry, row: RetainedImage) -> bytes:
    owner = f"retained:{row.id}"
    return registry.vault.open(registry.vault.open_key(row.wrapped_key, owner), row.ciphertext, owner, "image")


def purge_due(registry: Registry, now: datetime | None = None, actor: str = "system:retention") -> int:
    """Delete every retained image whose purge date has passed, the face crops of review cases open
    too long and of captures never used; returns how many rows lost images."""
    when = now or utcnow()

    def tx() -> dict[str, int]:
        with transaction(registry.sessions) as session:
            images = int(session.execute(delete(RetainedImage).where(RetainedImage.purge_after <= when)
                                         ).rowcount)  # type: ignore[attr-defined]
            cases, captures = evidence.purge_stale(session, when)
            counts = {"images": images, "review_cases": cases, "captures": captures}
            if any(counts.values()):
                audit.append(session, actor=actor, action="retention.purged", details=counts)
            return counts
    counts = with_retry(tx)
    total = sum(counts.values())
    if total:
        log.info("retained images purged", extra=counts)
    return total
