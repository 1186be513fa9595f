"""Model configurations of enrolled templates: which models and which calibration made each one.

A template id such as "sface+dlib@cal-1a2b3c4d" names the recognisers (in template order) and the
calibration (its fusion weights shape the template). Templates of different configurations are not
comparable, so every 1:1 check and every dedup search uses the template's own configuration: one
scorer per configuration (built lazily, shared, thread-safe) and, for configurations other than the
current one, one in-process exact index each (they only shrink, as templates are re-enrolled).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facekyc.registry.errors import Conflict
from facekyc.storage.models import TemplateCalibration
from facekyc.storage.vector_index import FlatIPIndex, VectorIndex
from facekyc.vision.calibration import Calibration
from facekyc.vision.engine import Scorer


def calibration_tag(calibration: Calibration) -> str:
    """A stable short name of a calibration: the first 8 hex digits of the SHA-256 of what shapes templates
    and decisions (fusion weights, thresholds and tails; not the provenance notes), as canonical JSON."""
    data = json.loads(calibration.to_json())
    canonical = json.dumps({"fusion": data["fusion"], "scores": data["scores"]}, sort_keys=True)
    return "cal-" + hashlib.sha256(canonical.encode()).hexdigest()[:8]


def config_id(models: Sequence[str], calibration: Calibration) -> str:
    """The id recorded with every template, e.g. 'sface+dlib@cal-1a2b3c4d'."""
    return "+".join(models) + "@" + calibration_tag(calibration)


def remember_calibration(session: Session, calibration: Calibration) -> None:
    """Record the calibration this process enrols with (once per tag; a concurrent start may race: harmless)."""
    tag = calibration_tag(calibration)
    if session.get(TemplateCalibration, tag) is None:
        session.add(TemplateCalibration(tag=tag, calibration=calibration.to_json()))
        try:
            session.flush()
        except IntegrityError:
            session.rollback()


def recorded_calibration(session: Session, tag: str) -> Calibration | None:
    """An earlier calibration by tag, as recorded when its templates were enrolled."""
    row = session.get(TemplateCalibration, tag)
    return Calibration.from_json(row.calibration) if row is not None else None


def models_of(template_config: str) -> list[str]:
    """The recognisers a template id names, in template order."""
    return template_config.split("@", 1)[0].split("+")


class ConfigUnavailable(Conflict):
    """A template was made by a configuration this process cannot reproduce."""

    def __init__(self, template_config: str, why: str) -> None:
        super().__init__(f"the enrolled template was made by {template_config!r}, which this server cannot "
                         f"reproduce ({why}); the customer must enrol again", code="template_config_unavailable")


class TemplateConfigs:
    """The current configuration and every other one enrolled templates still need."""

    def __init__(self, calibration: Calibration, engine_models: Sequence[str], current_models: Sequence[str]) -> None:
        missing = [m for m in current_models if m not in engine_models]
        if missing:
            raise ValueError(f"FACEKYC_MODELS names {missing}, which the face engine does not load")
        self.calibration = calibration
        self.tag = calibration_tag(calibration)
        self.engine_models = list(engine_models)
        self.current_id = config_id(current_models, calibration)
        self.current = Scorer(calibration, current_models)
        self._scorers: dict[str, Scorer] = {self.current_id: self.current}
        self._earlier: dict[str, Calibration] = {}  # recorded calibrations by tag (see `learn`)
        self._legacy: dict[str, VectorIndex] = {}
        self._lock = threading.Lock()

    def scorer(self, template_config: str | None) -> Scorer:
        """The scorer of a template's configuration; ConfigUnavailable when its models or calibration are gone."""
        key = template_config or "unknown"
        with self._lock:
            found = self._scorers.get(key)
            if found is not None:
                return found
            tag = key.split("@", 1)[1] if "@" in key else ""
            calibration = self.calibration if tag == self.tag else self._earlier.get(tag)
            if calibration is None:
                raise ConfigUnavailable(key, "its calibration is unknown here")
            models = models_of(key)
            if any(m not in self.engine_models for m in models):
                raise ConfigUnavailable(key, "the face engine does not load all of its models")
            self._scorers[key] = made = Scorer(calibration, models)
            return made

    def learn(self, session: Session, template_config: str | None) -> None:
        """Load a template's calibration from the database, in the caller's session, if not known yet
        (another process may have enrolled under a calibration this one has not seen)."""
        tag = (template_config or "").partition("@")[2]
        with self._lock:
            if not tag or tag == self.tag or tag in self._earlier:
                return
        found = recorded_calibration(session, tag)
        if found is not None:
            with self._lock:
                self._earlier[tag] = found

    def usable(self, template_config: str | None) -> bool:
        try:
            self.scorer(template_config)
        except ConfigUnavailable:
            return False
        return True

    def live_templates(self, embeddings: dict[str, np.ndarray], configs: Iterable[str]) -> dict[str, np.ndarray]:
        """The live face's template under each configuration (one embedding run serves them all)."""
        return {c: self.scorer(c).template(embeddings) for c in configs}

    # ---- indexes of the configurations other than the current one ---------------------------------
    def legacy_in_use(self) -> list[str]:
        """Older configurations that still hold templates in this process's indexes."""
        with self._lock:
            return sorted(c for c, index in self._legacy.items() if len(index))

    def legacy_index(self, template_config: str) -> VectorIndex:
        with self._lock:
            index = self._legacy.get(template_config)
            if index is None:
                index = self._legacy[template_config] = FlatIPIndex()
            return index

    def place(self, subscriber_id: int, template_config: str | None) -> None:
        """Drop a subscriber from every older configuration's index but its own (after a re-enrolment)."""
        with self._lock:
            indexes = list(self._legacy.items())
        for name, index in indexes:
            if name != template_config and subscriber_id in index:
                index.remove(subscriber_id)

    def rebuild_legacy(self, items: Iterable[tuple[int, str, np.ndarray]]) -> None:
        """Refill the older configurations' indexes from (subscriber id, configuration, template)."""
        grouped: dict[str, list[tuple[int, np.ndarray]]] = {}
        for sid, cfg, template in items:
            grouped.setdefault(cfg, []).append((sid, template))
        with self._lock:
            self._legacy = {}
        for cfg, rows in grouped.items():
            self.legacy_index(cfg).rebuild(rows)
