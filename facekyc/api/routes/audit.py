"""Read and check the audit log (auditors)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from facekyc.api.auth import Caller, require
from facekyc.api.problems import problem_responses
from facekyc.api.routes._deps import MAX_INT32, get_registry
from facekyc.api.routing import MediaTypeRoute
from facekyc.api.schemas import AuditCheckpointView, AuditEntryView, AuditVerifyView
from facekyc.registry import audit
from facekyc.registry.errors import Conflict
from facekyc.registry.service import Registry
from facekyc.storage.models import ApiKey, AuditEntry

router = APIRouter(prefix="/v1/audit", tags=["audit"], route_class=MediaTypeRoute)
RegistryDep = Annotated[Registry, Depends(get_registry)]
Auditor = Annotated[Caller, Depends(require("auditor"))]


@router.get("", response_model=list[AuditEntryView], summary="Audit entries from a sequence number",
            description="Global auditors only (403 global_scope_required for operator-scoped keys).",
            responses=problem_responses(403, 422))
def list_audit(registry: RegistryDep, caller: Auditor, after: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AuditEntryView]:
    caller.scope.require_global()
    with registry.sessions() as session:
        rows = list(session.execute(select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq)
                                    .limit(limit)).scalars())
        names = key_names(session, [r.actor for r in rows])
        return [AuditEntryView(seq=r.seq, at=r.at, actor=r.actor, actor_name=names.get(r.actor), action=r.action,
                               target=r.target, details=json.loads(r.details), prev_hash=r.prev_hash, hash=r.hash)
                for r in rows]


def key_names(session: Session, actors: list[str]) -> dict[str, str]:
    """"apikey:<id>" -> the key's name, so an auditor reads who acted (the entry keeps the id)."""
    ids = {a.removeprefix("apikey:") for a in actors if a.startswith("apikey:")}
    if not ids:
        return {}
    return {f"apikey:{kid}": name for kid, name in session.execute(select(ApiKey.id, ApiKey.name)
                                                                    .where(ApiKey.id.in_(ids)))}


@router.get("/verify", response_model=AuditVerifyView, summary="Recheck the keyed chain (HMAC) and its head",
            responses=problem_responses(403))
def verify_audit(registry: RegistryDep, caller: Auditor) -> AuditVerifyView:
    caller.scope.require_global()
    with registry.sessions() as session:
        return AuditVerifyView(**audit.verify(session).to_dict())


@router.get("/checkpoint", response_model=AuditCheckpointView,
            summary="A signed checkpoint of the chain head, to keep outside the database",
            description="Global auditors. Verifies the chain first (a broken chain is never signed: 409 "
                        "audit_chain_broken). Store the JSON elsewhere (WORM storage, a ticket, another party) "
                        "and pass it to `facekyc audit verify --checkpoint` to detect later truncation or rewrites.",
            responses=problem_responses(403, 409))
def audit_checkpoint(registry: RegistryDep, caller: Auditor) -> AuditCheckpointView:
    caller.scope.require_global()
    with registry.sessions() as session:
        try:
            return AuditCheckpointView(**audit.make_checkpoint(session))
        except ValueError as exc:
            raise Conflict(str(exc), code="audit_chain_broken") from None
