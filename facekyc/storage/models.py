"""The tables. Personal data is only ever stored encrypted (per-row data key) or as a keyed blind index."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True),
    }


class Operator(Base):
    """A mobile operator: its number pool and, optionally, its own per-identity number limit."""

    __tablename__ = "operators"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    max_numbers_per_identity: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PhoneNumber(Base):
    """One MSISDN of an operator's pool (E.164); status free -> assigned -> quarantined."""

    __tablename__ = "phone_numbers"
    __table_args__ = (Index("ix_phone_numbers_pool", "operator_id", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"))
    msisdn: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="free")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscriber(Base):
    """One identity: blind index of the document, encrypted number/name/template under its data key.

    Deleting `wrapped_key` (erasure) makes every ciphertext of the row unreadable for good."""

    __tablename__ = "subscribers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    identity_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    doc_type: Mapped[str] = mapped_column(String(16))
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    template_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    template_version: Mapped[str | None] = mapped_column(String(64))
    face_crop_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)  # only with keep_enrolment_crop
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column()


class Subscription(Base):
    """A number registered to a subscriber at one operator, on one SIM (ICCID)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("uq_subscriptions_active_iccid", "iccid", unique=True,
              postgresql_where=text("status = 'active'"), sqlite_where=text("status = 'active'")),
        Index("uq_subscriptions_active_number", "phone_number_id", unique=True,
              postgresql_where=text("status = 'active'"), sqlite_where=text("status = 'active'")),
        Index("ix_subscriptions_subscriber", "subscriber_id", "operator_id", "status"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"))
    phone_number_id: Mapped[int] = mapped_column(ForeignKey("phone_numbers.id"))
    msisdn: Mapped[str] = mapped_column(String(16))
    iccid: Mapped[str] = mapped_column(String(22))
    status: Mapped[str] = mapped_column(String(12), default="active")
    registration_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()


class CaptureSession(Base):
    """A liveness capture: challenge, nonce hash, and after upload only the verdict and the
    encrypted best-frame embeddings (never an image)."""

    __tablename__ = "capture_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce_hash: Mapped[str] = mapped_column(String(64))
    challenge: Mapped[list[Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(32))
    operator_id: Mapped[str | None] = mapped_column(String(32))  # the creating key's operator (0002)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(12), default="open")
    uploaded_at: Mapped[datetime | None] = mapped_column()
    live: Mapped[bool | None] = mapped_column(Boolean)
    reasons: Mapped[list[Any] | None] = mapped_column()
    scores: Mapped[dict[str, Any] | None] = mapped_column()
    quality: Mapped[dict[str, Any] | None] = mapped_column()
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    embeddings_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    face_crop_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)  # best frame's face, until consumed
    consumed_at: Mapped[datetime | None] = mapped_column()
    consumed_for: Mapped[str | None] = mapped_column(String(64))


class Registration(Base):
    """One registration attempt and its decision; a pending review keeps its encrypted payload
    (document, name, live template) until a reviewer decides, then the payload is shredded."""

    __tablename__ = "registrations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"))
    capture_session_id: Mapped[str] = mapped_column(ForeignKey("capture_sessions.id"), unique=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16), index=True)
    reasons: Mapped[list[Any]] = mapped_column()
    rules: Mapped[list[Any]] = mapped_column()
    scores: Mapped[dict[str, Any]] = mapped_column()
    fmr_target: Mapped[float] = mapped_column(Float)
    doc_type: Mapped[str] = mapped_column(String(16))
    iccid: Mapped[str] = mapped_column(String(22))
    consent_version: Mapped[str] = mapped_column(String(64))
    consent_at: Mapped[datetime] = mapped_column()
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"))
    subscription_id: Mapped[str | None] = mapped_column(String(32))
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    payload_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    reviewed_by: Mapped[str | None] = mapped_column(String(32))
    review_decision: Mapped[str | None] = mapped_column(String(12))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column()


class ApiKey(Base):
    """An API key: role and the sha256 of its high-entropy token (the token itself is never stored).

    Clerk keys belong to one operator (and a store label); reviewer and auditor keys are scoped to
    one operator or explicitly global; admin keys are global."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    operator_id: Mapped[str | None] = mapped_column(String(32))
    store: Mapped[str | None] = mapped_column(String(100))
    scope_global: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class AuditEntry(Base):
    """Append-only, keyed chain: hash = HMAC-SHA256(audit key `key_id`, canonical JSON incl. prev_hash);
    entries from before 0002 have no key_id and a plain sha256."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(String(32))


class AuditHead(Base):
    """The single row naming the chain's last entry; locking it serialises appends."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class RetainedImage(Base):
    """Optional retention (retain_images_days > 0): an image sealed under its own data key, purged when due."""

    __tablename__ = "retained_images"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    registration_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    purge_after: Mapped[datetime] = mapped_column(index=True)


class IndexSequence(Base):
    """The single row counting face-index events; updating it serialises dedup decisions (see enrolment_log)."""

    __tablename__ = "index_sequence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    transform_version: Mapped[int] = mapped_column(Integer, default=1)


class IndexEvent(Base):
    """One change of the face index (a template added or a subscriber removed), in commit order."""

    __tablename__ = "index_events"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subscriber_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IndexApplied(Base):
    """How far a shared (external) face index has applied the event log; its row lock serialises appliers."""

    __tablename__ = "index_applied"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class ReviewEvidence(Base):
    """A pending case's face crops (document, best live frame) under the case's own data key.

    Deleted when the case is decided (crypto-shred); past the configured age the key and images are
    dropped and `purged_at` says so."""

    __tablename__ = "review_evidence"
    registration_id: Mapped[str] = mapped_column(ForeignKey("registrations.id"), primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    live_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    purge_after: Mapped[datetime] = mapped_column(index=True)
    purged_at: Mapped[datetime | None] = mapped_column()


class TemplateCalibration(Base):
    """Every calibration that made enrolled templates (by tag), so they stay checkable after an upgrade."""

    __tablename__ = "template_calibrations"
    tag: Mapped[str] = mapped_column(String(16), primary_key=True)
    calibration: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
