"""Keeps this process's face index in step with the database, whichever process enrolled or erased.

Each process holds a cursor into the index event log (`storage.enrolment_log`). Before every dedup
search it applies the events committed since (the subscriber row is the truth: a template present
means add/replace, absent means remove). The guarantee against the race (one new face, two
identities, two processes, same moment): after its search a registration claims the sequence row,
which serialises it with every other enrolment until commit, and then compares its live template
exactly with every template committed after its search's cursor. So of two such registrations the
later one always sees the earlier one's template, and goes to review.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from facekyc.errors import DecryptionFailed, KeyNotFound
from facekyc.storage import enrolment_log
from facekyc.storage.db import transaction
from facekyc.storage.models import Subscriber

if TYPE_CHECKING:
    from facekyc.registry.service import Registry

log = logging.getLogger("facekyc.index")
BATCH = 5_000


@dataclass(frozen=True)
class SyncReport:
    """What `facekyc index sync` found before rebuilding: templates enrolled vs. held by the index."""

    enrolled: int
    held_before: int
    missing: int
    extra: int
    cursor: int

    @property
    def drift(self) -> int:
        return self.missing + self.extra


class IndexFeed:
    """The cursor of this process into the event log, and the code that moves it."""

    def __init__(self, registry: Registry) -> None:
        self.r = registry
        self.cursor = 0
        self._lock = threading.Lock()

    def entries(self, session: Session, ids: list[int] | None = None) -> Iterator[tuple[int, str, np.ndarray]]:
        """(id, template configuration, decrypted template) of enrolled subscribers (all, or those of `ids`)."""
        last = 0
        while True:
            query = select(Subscriber).where(Subscriber.template_ciphertext.is_not(None),
                                             Subscriber.wrapped_key.is_not(None), Subscriber.id > last)
            if ids is not None:
                query = query.where(Subscriber.id.in_(ids))
            rows = list(session.execute(query.order_by(Subscriber.id).limit(BATCH)).scalars())
            for row in rows:
                self.r.configs.learn(session, row.template_version)
                if not self.r.configs.usable(row.template_version):
                    log.error("template made by a configuration this server cannot reproduce; left out of the "
                              "index (see facekyc templates status)", extra={"subscriber": row.ref})
                    continue
                try:
                    yield row.id, row.template_version or "", self.r.registrations.open_template(row)
                except (DecryptionFailed, KeyNotFound):
                    log.error("template of a subscriber cannot be decrypted; left out of the index",
                              extra={"subscriber": row.ref})
            if len(rows) < BATCH:
                return
            last = rows[-1].id

    def templates(self, session: Session, ids: list[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Decrypted templates of the current configuration (the main index holds only these)."""
        current = self.r.configs.current_id
        return ((sid, t) for sid, cfg, t in self.entries(session, ids) if cfg == current)

    def _split(self, items: Iterator[tuple[int, str, np.ndarray]]) -> list[tuple[int, np.ndarray]]:
        """Current-configuration templates returned; older ones go into their own indexes."""
        current, legacy = self.r.configs.current_id, []
        main = []
        for sid, cfg, template in items:
            (main.append((sid, template)) if cfg == current else legacy.append((sid, cfg, template)))
        self.r.configs.rebuild_legacy(legacy)
        return main

    @property
    def name(self) -> str:
        """The shared index's name in `index_applied` (its collection)."""
        return str(getattr(self.r.index, "collection", "local"))

    def rebuild(self) -> int:
        """At start. In process: load every enrolled template (the rows are the truth), then catch up.
        Shared (external) index: it outlives us, so only catch up (a first start fills it)."""
        if self.r.index.shared:
            with self._lock, self.r.sessions() as session:
                start = enrolment_log.head(session)
                self.r.configs.rebuild_legacy((s, c, t) for s, c, t in self.entries(session)
                                              if c != self.r.configs.current_id)
            self.catch_up()
            return len(self.r.index)
        t0 = time.perf_counter()
        with self._lock, self.r.sessions() as session:
            start = enrolment_log.head(session)
            items = self._split(self.entries(session))
            self.r.index.rebuild(items)
            self.cursor = start
        self.catch_up()
        log.info("face index rebuilt", extra={"templates": len(items), "cursor": self.cursor,
                                              "seconds": round(time.perf_counter() - t0, 3)})
        return len(items)

    def sync(self) -> SyncReport:
        """Rebuild the index from the database (the truth) under the sequence lock; say what had drifted."""
        with self._lock, transaction(self.r.sessions) as session:
            enrolment_log.claim(session)  # no enrolment or erasure commits meanwhile
            truth = dict(self._split(self.entries(session)))
            held = self.r.index.ids()
            self.r.index.rebuild(truth.items())
            self.cursor = enrolment_log.head(session)
            if self.r.index.shared:
                enrolment_log.set_applied(session, self.name, self.cursor)
        return SyncReport(enrolled=len(truth), held_before=len(held), missing=len(set(truth) - held),
                          extra=len(held - set(truth)), cursor=self.cursor)

    def catch_up(self, session: Session | None = None) -> int:
        """Apply every event committed since the cursor (any process's); returns the cursor reached.

        Inside a transaction pass its session: on SQLite a second connection would wait for its writer."""
        inside = session is not None and session.get_bind().dialect.name == "sqlite"
        with self._lock:
            if self.r.index.shared:
                if inside:
                    assert session is not None
                    return self._catch_up_shared(session)
                with transaction(self.r.sessions) as own:  # PostgreSQL: a short lock, not the caller's
                    return self._catch_up_shared(own)
            if session is not None:
                return self._catch_up(session)
            with self.r.sessions() as own:
                return self._catch_up(own)

    def _catch_up(self, session: Session) -> int:
        while events := enrolment_log.after(session, self.cursor, limit=BATCH):
            self._apply(session, {e.subscriber_id for e in events})
            self.cursor = events[-1].seq
        return self.cursor

    def _catch_up_shared(self, session: Session) -> int:
        """Each event is applied to the shared index once, by whichever process holds its applied row."""
        version = enrolment_log.transform_version(session)
        if getattr(self.r.index, "transform_version", version) != version:  # `keys rotate-transform` ran
            from facekyc.registry.service import build_index

            self.r.index = build_index(self.r.settings, self.r.keyring, self.r.sessions, version,
                                       template_config=self.r.configs.current_id)
        applied = enrolment_log.applied(session, self.name)
        if applied is None:  # first start against this collection: fill it from the rows
            enrolment_log.claim(session)
            applied = enrolment_log.applied(session, self.name)
            if applied is None:
                self.r.index.rebuild(self.templates(session))
                applied = enrolment_log.head(session)
        self.cursor = applied
        self._catch_up(session)
        enrolment_log.set_applied(session, self.name, self.cursor)
        return self.cursor

    def _apply(self, session: Session, touched: set[int]) -> None:
        present = {sid: (cfg, t) for sid, cfg, t in self.entries(session, sorted(touched))}
        current = self.r.configs.current_id
        for subscriber_id in sorted(touched):
            cfg, template = present.get(subscriber_id, (None, None))
            self.r.configs.place(subscriber_id, cfg)
            if template is not None and cfg == current:
                self.r.index.add(subscriber_id, template)
                continue
            self.r.index.remove(subscriber_id)
            if template is not None and cfg is not None:
                self.r.configs.legacy_index(cfg).add(subscriber_id, template)

    def serialise(self, session: Session, cursor: int, embeddings: dict[str, np.ndarray]
                  ) -> list[tuple[int, str, float]]:
        """Inside a dedup transaction, after its search at `cursor`: take the sequence lock (held to commit)
        and return (subscriber id, configuration, inner product) for every template committed since the
        search, each compared with the live face's template under that template's configuration."""
        enrolment_log.claim(session)
        touched = sorted({e.subscriber_id for e in enrolment_log.after(session, cursor)})
        if not touched:
            return []
        live: dict[str, np.ndarray] = {}
        out = []
        for sid, cfg, t in self.entries(session, touched):
            if cfg not in live:
                live[cfg] = self.r.configs.scorer(cfg).template(embeddings)
            out.append((sid, cfg, float(np.dot(t, live[cfg]))))
        return out
