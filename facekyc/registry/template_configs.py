"""Model configurations of enrolled templates: which models and which calibration made each one.

A template id such as "sface+dlib@cal-1a2b3c4d" names the recognisers (in template order) and the
calibration (its fusion weights shape the template). Templates of different configurations are not
comparable, so every 1:1 check and every dedup search uses the template's own configuration: one
scorer per configuration (built lazily, shared, thread-safe) and, for configurations other than the
current one, one in-process exact index each (they only shrink, as templates are re-enrolled).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence

import numpy as np

from facekyc.registry.errors import Conflict
from facekyc.storage.vector_index import FlatIPIndex, VectorIndex
from facekyc.vision.calibration import Calibration
from facekyc.vision.engine import Scorer


def calibration_tag(calibration: Calibration) -> str:
    """A stable short name of a calibration: the first 8 hex digits of its canonical JSON's SHA-256."""
    return "cal-" + hashlib.sha256(calibration.to_json().encode()).hexdigest()[:8]


def config_id(models: Sequence[str], calibration: Calibration) -> str:
    """The id recorded with every template, e.g. 'sface+dlib@cal-1a2b3c4d'."""
    return "+".join(models) + "@" + calibration_tag(calibration)


def models_of(template_config: str) -> list[str]:
    """The recognisers a template id names, in template order."""
    return template_config.split("@", 1)[0].split("+")


class ConfigUnavailable(Conflict):
    """A template was made by a configuration this process cannot reproduce."""

    def __init__(self, template_config: str, why: str) -> None:
        super().__init__(f"the enrolled template was made by {template_config!r}, which this server cannot "
                         f"reproduce ({why}); the customer must be enrolled again", code="template_config_unavailable")


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
        self._legacy: dict[str, VectorIndex] = {}
        self._lock = threading.Lock()

    def scorer(self, template_config: str | None) -> Scorer:
        """The scorer of a template's configuration; ConfigUnavailable when its models or calibration are gone."""
        key = template_config or "unknown"
        with self._lock:
            found = self._scorers.get(key)
            if found is not None:
                return found
            if "@" not in key or key.split("@", 1)[1] != self.tag:
                raise ConfigUnavailable(key, "its calibration is not the one this server ships")
            models = models_of(key)
            if any(m not in self.engine_models for m in models):
                raise ConfigUnavailable(key, "the face engine does not load all of its models")
            self._scorers[key] = made = Scorer(self.calibration, models)
            return made

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
