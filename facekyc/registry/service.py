"""The Registry: one per process, holding the settings, face engine, database, keys, index and services."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from facekyc.config import Settings
from facekyc.crypto import LocalKeyring, keyring_from_settings
from facekyc.registry import apikeys, audit
from facekyc.registry.capture import CaptureService, parse_fixed_challenge
from facekyc.registry.files import keyring_warnings, private_dir, private_sqlite_files
from facekyc.registry.index_feed import IndexFeed
from facekyc.registry.lines import LineService
from facekyc.registry.liveness import LivenessChecker, default_checker
from facekyc.registry.metrics import Metrics
from facekyc.registry.registration import RegistrationService
from facekyc.registry.review import ReviewService
from facekyc.registry.template_configs import TemplateConfigs, remember_calibration
from facekyc.registry.vault import Vault
from facekyc.storage import enrolment_log, migrate
from facekyc.storage.db import make_engine, make_sessionmaker, transaction
from facekyc.storage.models import ApiKey
from facekyc.storage.vector_index import VectorIndex, open_index

if TYPE_CHECKING:
    from facekyc.vision.engine import FaceEngine

log = logging.getLogger("facekyc.registry")


class ConfigurationError(RuntimeError):
    """The service refuses to start with this configuration."""


def check_settings(settings: Settings) -> None:
    """Refuse unsafe combinations before anything starts."""
    if settings.test_fixed_challenge:
        if not settings.test_mode:
            raise ConfigurationError("FACEKYC_TEST_FIXED_CHALLENGE is set but FACEKYC_TEST_MODE is not: a fixed "
                                     "liveness challenge is for tests only; unset it (or set test mode in tests)")
        parse_fixed_challenge(settings.test_fixed_challenge)
        log.warning("TEST MODE: liveness challenges are fixed to %s; never run this in production",
                    settings.test_fixed_challenge)


def open_database(settings: Settings, *, schema: str | None = None, upgrade: bool = True) -> Engine:
    """Create the data dir (0700) and the SQLite file (0600) first, connect, and apply migrations."""
    if settings.database_url is None:
        private_dir(settings.data_dir)
        private_sqlite_files(settings.data_dir / "facekyc.sqlite3")
    engine = make_engine(settings.resolved_database_url(), schema=schema)
    if upgrade:
        migrate.upgrade(engine)
    return engine


def build_index(settings: Settings, keyring: LocalKeyring, sessions: sessionmaker[Session],
                version: int | None = None, template_config: str = "") -> VectorIndex:
    """The configured backend; an external one gets the keyed rotation of the version the database names,
    in a collection of its own per template configuration (templates of two models never share one)."""
    if settings.vector_backend == "compact":
        return open_index("compact", codec=settings.compact_codec)
    if settings.vector_backend != "milvus":
        return open_index(settings.vector_backend)
    from facekyc.crypto.transform import KeyedRotation

    if version is None:
        with sessions() as session:
            version = enrolment_log.transform_version(session)
    config = f"_c{hashlib.sha256(template_config.encode()).hexdigest()[:8]}" if template_config else ""
    return open_index("milvus", milvus_uri=settings.milvus_uri,
                      collection=f"{settings.milvus_collection}{config}_v{version}",
                      transform=KeyedRotation(keyring.index_key(), version))


class Registry:
    """Everything a request handler needs; thread-safe (the engine, index and pool are)."""

    def __init__(self, settings: Settings, engine: FaceEngine, db: Engine, keyring: LocalKeyring, *,
                 liveness: LivenessChecker | None = None, index: VectorIndex | None = None,
                 metrics: Metrics | None = None) -> None:
        check_settings(settings)
        self.settings = settings
        self.engine = engine
        try:
            self.configs = TemplateConfigs(engine.calibration, engine.model_names, settings.model_list())
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from exc
        self.scorer = self.configs.current
        self.db = db
        self.keyring = keyring
        self.sessions = make_sessionmaker(db, info=audit.bind_keys({}, keyring))
        self.vault = Vault(keyring)
        self.index: VectorIndex = index if index is not None else build_index(
            settings, keyring, self.sessions, template_config=self.configs.current_id)
        self.feed = IndexFeed(self)
        self.metrics = metrics or Metrics()
        self.liveness: LivenessChecker = liveness or default_checker(settings)
        self.captures = CaptureService(self)
        self.registrations = RegistrationService(self)
        self.reviews = ReviewService(self)
        self.lines = LineService(self)

    @classmethod
    def open(cls, settings: Settings, engine: FaceEngine, *, liveness: LivenessChecker | None = None,
             schema: str | None = None) -> Registry:
        check_settings(settings)
        db = open_database(settings, schema=schema)
        keyring = keyring_from_settings(settings)
        for warning in keyring_warnings(settings, keyring.path):
            log.warning(warning)
        registry = cls(settings, engine, db, keyring, liveness=liveness)
        registry.pin_legacy_audit()
        with transaction(registry.sessions) as session:
            remember_calibration(session, engine.calibration)  # its templates stay checkable after an upgrade
        registry.rebuild_index()
        older = registry.configs.legacy_in_use()
        if older:
            log.warning("templates of older model configurations are still enrolled (each dedup search also runs "
                        "once per configuration); see facekyc templates status",
                        extra={"current": registry.configs.current_id, "older": older})
        return registry

    def rebuild_index(self) -> int:
        """Decrypt every enrolled template into the index (the rows are the truth) and set the cursor."""
        return self.feed.rebuild()

    def pin_legacy_audit(self) -> None:
        """Record in the key file (once) where the unkeyed pre-0002 audit entries end."""
        with self.sessions() as session:
            unpinned = audit.record_legacy_cutoff(session, self.keyring)
        if unpinned is not None:
            log.warning("the audit chain has %d unkeyed entries from before migration 0002 and the key ring cannot "
                        "record that; set FACEKYC_AUDIT_LEGACY_UNTIL=%d or audit verify will fail", unpinned, unpinned)

    def ensure_admin_key(self) -> str | None:
        """On first start (no key at all) create an admin key and return its token (shown once)."""
        return ensure_admin_key(self.sessions)

    def close(self) -> None:
        self.db.dispose()


def ensure_admin_key(sessions: sessionmaker[Session]) -> str | None:
    """With no API key at all, create an admin key and return its token (shown once)."""
    with transaction(sessions) as session:
        if session.execute(select(ApiKey.id).limit(1)).first() is not None:
            return None
        key, token = apikeys.create_key(session, "initial admin", "admin")
        audit.append(session, actor="system", action="apikey.created", target=key.id,
                     details={"role": "admin", "initial": True, "global": True})
    return token
