"""Renewing the keyed vector transform: every template re-projected under a new version, then switched."""

from __future__ import annotations

from typing import TYPE_CHECKING

from facekyc.storage import enrolment_log
from facekyc.storage.db import transaction

if TYPE_CHECKING:
    from facekyc.registry.service import Registry


def rotate(registry: Registry) -> tuple[int, int, int]:
    """Fill `<collection>_v<n+1>` from the database under the sequence lock (no enrolment commits
    meanwhile), record it as current, then drop the old collection. Running servers switch at their
    next catch-up. Returns (old version, new version, templates re-projected)."""
    from facekyc.registry.service import build_index

    if not registry.index.shared:
        raise ValueError("only an external index (FACEKYC_VECTOR_BACKEND=milvus) holds transformed vectors")
    old_index = registry.index
    with transaction(registry.sessions) as session:
        enrolment_log.claim(session)
        old = enrolment_log.transform_version(session)
        new_index = build_index(registry.settings, registry.keyring, registry.sessions, old + 1,
                                template_config=registry.configs.current_id)
        items = list(registry.feed.templates(session))
        new_index.rebuild(items)
        enrolment_log.set_applied(session, str(getattr(new_index, "collection", "")), enrolment_log.head(session))
        enrolment_log.set_transform_version(session, old + 1)
    registry.index = new_index
    drop = getattr(old_index, "drop", None)
    if drop is not None:
        drop()
    return old, old + 1, len(items)
