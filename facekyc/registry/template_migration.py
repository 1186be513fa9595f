"""Which model configurations enrolled templates use, and moving them to the current one.

Where enrolment face crops are kept (FACEKYC_KEEP_ENROLMENT_CROP), a template is re-embedded from its
crop in place; without a crop it moves at the customer's next face-verified contact (SIM replacement,
numbers query), since a template cannot be converted between models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, func, select

from facekyc.errors import FaceKycError
from facekyc.registry import audit, evidence
from facekyc.storage.db import transaction, with_retry
from facekyc.storage.models import Subscriber

if TYPE_CHECKING:
    from facekyc.registry.service import Registry

log = logging.getLogger("facekyc.templates")


@dataclass(frozen=True)
class ConfigCount:
    """Enrolled templates of one configuration; `usable` False means this server cannot check them."""

    config: str
    templates: int
    with_crop: int
    current: bool
    usable: bool

    def to_dict(self) -> dict[str, object]:
        return {"config": self.config, "templates": self.templates, "with_crop": self.with_crop,
                "current": self.current, "usable": self.usable}


@dataclass(frozen=True)
class MigrationReport:
    """What `templates migrate` did: moved from crops, failed (no usable face in the crop), left for a contact."""

    current: str
    migrated: int
    failed: int
    awaiting_contact: int

    def to_dict(self) -> dict[str, object]:
        return {"current": self.current, "migrated": self.migrated, "failed": self.failed,
                "awaiting_contact": self.awaiting_contact}


def _enrolled() -> list[ColumnElement[bool]]:
    return [Subscriber.template_ciphertext.is_not(None), Subscriber.wrapped_key.is_not(None)]


def template_counts(registry: Registry) -> list[ConfigCount]:
    """Counts per configuration, the current one first (listed even when it holds none yet)."""
    current = registry.configs.current_id
    with registry.sessions() as session:
        rows = session.execute(select(Subscriber.template_version, func.count(),
                                      func.count(Subscriber.face_crop_ciphertext))
                               .where(*_enrolled()).group_by(Subscriber.template_version)).all()
        for cfg, _n, _crops in rows:
            registry.configs.learn(session, cfg)
    counts = {str(cfg): (int(n), int(crops)) for cfg, n, crops in rows}
    counts.setdefault(current, (0, 0))
    return [ConfigCount(cfg, n, crops, cfg == current, registry.configs.usable(cfg))
            for cfg, (n, crops) in sorted(counts.items(), key=lambda kv: (kv[0] != current, kv[0]))]


def migrate_templates(registry: Registry, actor: str = "cli", batch: int = 100) -> MigrationReport:
    """Re-embed every older template that has a kept crop with the current configuration, one
    transaction (and audit entry) per subscriber; the face work happens outside any transaction."""
    current = registry.configs.current_id
    migrated = failed = 0
    skip: set[int] = set()
    while True:
        with registry.sessions() as session:
            where = [*_enrolled(), Subscriber.face_crop_ciphertext.is_not(None),
                     Subscriber.template_version.is_distinct_from(current)]
            if skip:
                where.append(Subscriber.id.not_in(skip))
            todo = list(session.execute(select(Subscriber).where(*where).order_by(Subscriber.id).limit(batch)
                                        ).scalars())
            crops = [(row.id, evidence.open_subscriber_crop(registry, row)) for row in todo]
        if not todo:
            break
        for subscriber_id, crop in crops:
            if _migrate_one(registry, subscriber_id, crop, actor):
                migrated += 1
            else:
                failed += 1
                skip.add(subscriber_id)
    registry.feed.catch_up()
    with registry.sessions() as session:
        waiting = int(session.execute(select(func.count()).select_from(Subscriber).where(
            *_enrolled(), Subscriber.template_version.is_distinct_from(current))).scalar_one())
    return MigrationReport(current, migrated, failed, waiting)


def _migrate_one(registry: Registry, subscriber_id: int, crop: bytes | None, actor: str) -> bool:
    """Embed the crop (outside the transaction), then reseal if the row is still as read."""
    if crop is None:
        return False
    try:
        analysis = registry.engine.analyse(crop, purpose="any", policy="primary")
    except FaceKycError:
        log.warning("no usable face in a kept enrolment crop; left for the next contact",
                    extra={"subscriber": subscriber_id})
        return False

    def tx() -> bool:
        with transaction(registry.sessions) as session:
            row = session.get(Subscriber, subscriber_id, with_for_update=True)
            if row is None or row.template_ciphertext is None or row.wrapped_key is None:
                return True  # erased meanwhile: nothing left to move
            old = row.template_version
            if registry.registrations.reenrol(session, row, analysis.embeddings):
                audit.append(session, actor=actor, action="template.migrated", target=row.ref,
                             details={"from": old, "to": registry.configs.current_id, "source": "enrolment_crop"})
            return True
    return with_retry(tx)
