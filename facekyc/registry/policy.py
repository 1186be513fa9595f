"""Decision rules: every rule that fires is listed; rejections outrank reviews, reviews outrank approval.

A possible duplicate identity is never an automatic rejection: a person decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from facekyc.config import Settings
from facekyc.storage.models import Operator

Decision = Literal["approved", "rejected", "review"]
Effect = Literal["reject", "review"]

# Stable reason codes (documented in the OpenAPI description of the decision schema).
REASONS: dict[str, str] = {
    "liveness_failed": "the live capture did not pass the liveness check",
    "low_quality": "the document photo or the live face is not good enough to decide",
    "face_mismatch": "the live face does not match the document photo",
    "number_limit": "the identity already holds the most numbers allowed at this operator",
    "duplicate_face": "the live face matches a subscriber registered under another identity",
    "identity_face_mismatch": "the live face differs from the face enrolled for this identity",
    "no_number_available": "the operator's number pool is empty",
    "document_invalid": "the identity document failed validation",
    "reviewer_rejected": "a reviewer rejected the case",
    "template_config_unavailable": "the enrolled template was made by models or a calibration this server no "
                                   "longer has; the customer must enrol again",
}


@dataclass(frozen=True)
class RuleHit:
    """One fired rule: its reason code, whether it rejects or sends to review, and what was measured."""

    code: str
    effect: Effect
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "effect": self.effect, "detail": self.detail}


def outcome(hits: Sequence[RuleHit]) -> Decision:
    if any(h.effect == "reject" for h in hits):
        return "rejected"
    if hits:
        return "review"
    return "approved"


def number_limit(settings: Settings, operator: Operator) -> int:
    """The operator's own limit when set, else the service default."""
    return operator.max_numbers_per_identity or settings.max_numbers_per_identity
