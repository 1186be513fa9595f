"""API keys with roles, stored as the sha256 of a high-entropy token (shown once, never stored)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from facekyc.errors import InputError
from facekyc.registry.errors import Forbidden, NotFound
from facekyc.registry.scope import GLOBAL, Scope
from facekyc.storage.models import ApiKey, Operator, utcnow

Role = Literal["clerk", "reviewer", "auditor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
TOKEN_PREFIX = "fk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_scope(session: Session, role: str, operator_id: str | None, store: str | None, scope_global: bool) -> None:
    """Clerks: one operator, never global. Reviewers/auditors: one operator or explicitly global.
    Admins: global only. A store label only on clerk keys."""
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}", code="invalid_role", field="role")
    if role == "admin" and (operator_id or store):
        raise InputError("admin keys are global: no operator or store", code="invalid_scope", field="operator_id")
    if role == "clerk" and (scope_global or not operator_id):
        raise InputError("a clerk key belongs to one operator: give operator_id", code="operator_required",
                         field="operator_id")
    if role in ("reviewer", "auditor") and bool(operator_id) == scope_global:
        raise InputError(f"a {role} key is either scoped to one operator (operator_id) or global (global: true)",
                         code="scope_required", field="operator_id")
    if store and role != "clerk":
        raise InputError("a store label belongs on clerk keys only", code="invalid_scope", field="store")
    if operator_id and session.get(Operator, operator_id) is None:
        raise NotFound("no such operator", code="operator_not_found", field="operator_id")


def create_key(session: Session, name: str, role: str, *, operator_id: str | None = None, store: str | None = None,
               scope_global: bool = False) -> tuple[ApiKey, str]:
    """A new key row and its token (256 random bits); the caller shows the token once."""
    check_scope(session, role, operator_id, store, scope_global)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(id="key_" + secrets.token_hex(6), name=name, role=role, token_hash=hash_token(token),
                 operator_id=operator_id or None, store=store or None, scope_global=role == "admin" or scope_global)
    session.add(key)
    session.flush()
    return key, token


def assign_operator(session: Session, key_id: str, operator_id: str, store: str | None) -> ApiKey:
    """Bind a key (e.g. a clerk key from before 0002) to one operator; a global key stays global."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("no such API key", code="apikey_not_found")
    check_scope(session, key.role, operator_id, store, False)
    if key.operator_id and key.operator_id != operator_id:
        raise InputError("this key already belongs to another operator; create a new key", code="invalid_scope",
                         field="operator_id")
    key.operator_id, key.store, key.scope_global = operator_id, store or key.store, False
    return key


def scope_of(key: ApiKey) -> Scope:
    """The data a key may see; a clerk key with no operator (from before 0002) may act on none."""
    if key.role == "admin" or key.scope_global:
        return GLOBAL
    if key.operator_id is None:
        raise Forbidden("this API key has no operator; an admin must assign one (facekyc apikeys assign)",
                        code="key_not_scoped")
    return Scope(key.operator_id, key.store)


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
