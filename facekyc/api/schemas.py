"""Request and response bodies (pydantic): the OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from facekyc.documents import DOC_TYPES
from facekyc.registry.policy import REASONS

DocTypeField = Field(description=f"One of {', '.join(DOC_TYPES)}", examples=["cn_ric"])
DocumentField = Field(description="cn_ric: the 18-character number; *_mrz: the MRZ lines (newline separated)",
                      min_length=1, max_length=200)


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    database: str
    templates_indexed: int
    schema_revision: str | None


class CaptureSessionCreated(BaseModel):
    """Show the challenge to the customer; upload the frames with the nonce before `expires_at`."""

    id: str
    nonce: str = Field(description="Secret for the upload; single use")
    expires_at: datetime
    challenge: list[str] = Field(description="Steps in order: turn_left, turn_right, look_up, look_down, blink, "
                                             "open_mouth (the subject's own left/right)")
    step_ms: int = Field(3000, description="How long a client should prompt each step (ms)")


class LivenessView(BaseModel):
    decision: Literal["live", "not_live"]
    reasons: list[str]
    scores: dict[str, float]


class CaptureSessionView(BaseModel):
    id: str
    status: Literal["open", "checking", "checked"]
    challenge: list[str]
    created_at: datetime
    expires_at: datetime
    uploaded_at: datetime | None
    used: bool
    liveness: LivenessView | None
    quality: dict[str, Any] | None = Field(None, description="Quality report of the best frame")


class RuleView(BaseModel):
    code: str = Field(description="Reason code: " + "; ".join(f"{k}: {v}" for k, v in REASONS.items()))
    effect: Literal["reject", "review"]
    detail: dict[str, Any]


class ReviewView(BaseModel):
    decision: Literal["approved", "rejected"]
    comment: str
    reviewed_by: str
    reviewed_at: datetime


class ExplainedScoreView(BaseModel):
    """A score in words: its margin to the threshold and how often two different people score as high."""

    name: str = Field(description="document_vs_live, enrolled_vs_live or duplicate:<subscriber reference>")
    score: float
    threshold: float
    margin: float = Field(description="score - threshold: positive means on the match side")
    estimated_fmr: float = Field(description="Share of different-person comparisons scoring at least this high")
    fmr_words: str = Field(description='The estimated FMR in words, e.g. "about 1 in 1.2 million"')
    summary: str


class RegistrationView(BaseModel):
    """The decision with every rule that fired, the scores and the FMR operating point."""

    id: str
    decision: Literal["approved", "rejected", "review"]
    status: Literal["completed", "rejected", "pending_review"]
    reasons: list[str]
    rules: list[RuleView]
    scores: dict[str, float]
    fmr_target: float
    operator_id: str
    doc_type: str
    capture_session_id: str
    msisdn: str | None = Field(None, description="The assigned number (E.164) once completed")
    consent_version: str
    consent_at: datetime
    created_at: datetime
    review: ReviewView | None = None
    explained: list[ExplainedScoreView] = Field(default_factory=list, description="The scores in words")


class ReviewDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    comment: str = Field(min_length=3, max_length=2000, description="Mandatory reason for the decision")


class NumbersQueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doc_type: str = DocTypeField
    document: str = DocumentField
    capture_session_id: str = Field(min_length=1, max_length=64)


class ClosureIn(NumbersQueryIn):
    msisdn: str = Field(min_length=3, max_length=20, description="The number to end (E.164)")


class SimReplacementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    msisdn: str = Field(min_length=3, max_length=20)
    new_iccid: str = Field(min_length=19, max_length=24)
    capture_session_id: str = Field(min_length=1, max_length=64)


class LineView(BaseModel):
    msisdn: str
    operator_id: str
    since: datetime


class FaceCheckView(BaseModel):
    """Outcome of a face-verified request on existing lines."""

    decision: Literal["approved", "rejected"]
    reasons: list[str]
    scores: dict[str, float]
    fmr_target: float
    numbers: list[LineView] = Field(default_factory=list)
    subscriber_erased: bool = False


class VerificationView(BaseModel):
    decision: Literal["match", "non_match"]
    score: float
    threshold: float
    fmr_target: float
    estimated_fmr: float
    margin: float = Field(description="score - threshold: positive means on the match side")
    fmr_words: str = Field(description='The estimated FMR in words, e.g. "about 1 in 1.2 million"')
    summary: str = Field(description="The score, margin and estimated FMR in one sentence")
    quality_document: dict[str, Any]
    quality_live: dict[str, Any]


class FaceBoxView(BaseModel):
    """Where the subject's face is, in pixels of the upright (EXIF-rotated) image."""

    box: tuple[float, float, float, float] = Field(description="x, y, width, height (cut to the image)")
    landmarks: list[tuple[float, float]] = Field(min_length=5, max_length=5, description=(
        "x, y of the subject's right eye, left eye, nose tip, right and left mouth corner"))
    confidence: float = Field(description="Detector confidence, 0..1")


class DocumentPhotoCheckView(BaseModel):
    """The face found on a document photo and its quality at the document limits; nothing is stored."""

    image_size: tuple[int, int] = Field(description="width, height of the upright image in pixels")
    face: FaceBoxView
    faces_found: int = Field(description="Faces detected; the largest, most central one is the subject")
    quality: dict[str, Any] = Field(description="Quality report: passed, failed, hints (words), components")
    usable: bool = Field(description="Every quality component passed: the photo is fit for registration")


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: Literal["clerk", "reviewer", "auditor", "admin"]
    operator_id: str | None = Field(None, max_length=32, description="Required for clerk keys; reviewer and "
                                    "auditor keys take either this or `global: true`")
    store: str | None = Field(None, min_length=1, max_length=100, description="Clerk keys: store label, kept "
                              "in the audit")
    scope_global: bool = Field(False, alias="global", description="Reviewer/auditor keys: see every operator")


class ApiKeyView(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
    id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None
    operator_id: str | None = None
    store: str | None = None
    scope_global: bool = Field(False, alias="global")


class ApiKeyCreated(ApiKeyView):
    token: str = Field(description="Shown once; only its hash is stored")


class OperatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,31}$")
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 region for national number input")
    max_numbers_per_identity: int | None = Field(None, ge=1, le=1000)


class OperatorView(BaseModel):
    id: str
    name: str
    country: str
    max_numbers_per_identity: int
    numbers: dict[str, int]


class NumbersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    msisdns: list[str] = Field(min_length=1, max_length=10_000)


class NumbersAdded(BaseModel):
    added: int
    skipped_existing: int


class AuditEntryView(BaseModel):
    seq: int
    at: str
    actor: str
    actor_name: str | None = Field(None, description="The API key's name when the actor is a key (not hashed)")
    action: str
    target: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditVerifyView(BaseModel):
    ok: bool
    entries: int
    first_bad_seq: int | None
    problem: str | None
    legacy_entries: int = Field(0, description="Entries from before the keyed chain (plain SHA-256)")
    checkpoint_seq: int | None = None


class AuditCheckpointView(BaseModel):
    format: str
    version: int
    seq: int
    hash: str
    legacy_until: int
    at: str
    public_key: str = Field(description="Ed25519 public key (base64, raw 32 bytes)")
    signature: str = Field(description="Ed25519 signature over the canonical JSON of the other fields")


class EvidenceMatchView(BaseModel):
    subscriber: str = Field(description="Reference of the enrolled subscriber the duplicate rule named")
    available: bool = Field(description="Whether a face crop of that subscriber is kept (keep_enrolment_crop)")
    url: str | None


class EvidenceView(BaseModel):
    """The face crops an open case can show (each fetch is audited), and in words what it cannot show."""

    registration_id: str
    images: dict[str, str] = Field(description="document / live -> URL of the JPEG face crop")
    matches: list[EvidenceMatchView]
    purge_after: datetime | None = Field(description="When the crops are destroyed if the case is still open")
    purged_at: datetime | None = Field(description="Set when the crops were destroyed because the case stayed open")
    notes: list[str]


class OperatorPublicView(BaseModel):
    """What a clerk may know about an operator: that it exists, its name and country."""

    id: str
    name: str
    country: str
