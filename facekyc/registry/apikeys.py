"""API keys with roles, stored as the sha256 of a high-entropy token (shown once, never stored)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from facekyc.errors import InputError
from facekyc.storage.models import ApiKey, utcnow

Role = Literal["clerk", "reviewer", "auditor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
TOKEN_PREFIX = "fk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(session: Session, name: str, role: str) -> tuple[ApiKey, str]:
    """A new key row and its token (256 random bits); the caller shows the token once."""
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}", code="invalid_role", field="role")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(id="key_" + secrets.token_hex(6), name=name, role=role, token_hash=hash_token(token))
    session.add(key)
    session.flush()
    return key, token


def authenticate(session: Session, token: str) -> ApiKey | None:
    """The active key for a token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    key = session.execute(select(ApiKey).where(ApiKey.token_hash == hash_token(token))).scalar_one_or_none()
    if key is None or key.revoked_at is not None:
        return None
    return key


def revoke(session: Session, key_id: str) -> ApiKey | None:
    key = session.get(ApiKey, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
    return key
