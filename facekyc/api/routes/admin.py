"""Administration: API keys, operators and their number pools."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from sqlalchemy import select

from facekyc.api.auth import Caller, require
from facekyc.api.problems import problem_responses
from facekyc.api.routes._deps import get_registry
from facekyc.api.routing import MediaTypeRoute
from facekyc.api.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyView, NumbersAdded, NumbersIn, OperatorIn, OperatorView
from facekyc.registry import apikeys, audit, operators
from facekyc.registry.errors import NotFound
from facekyc.registry.numbers import pool_counts
from facekyc.registry.policy import number_limit
from facekyc.registry.service import Registry
from facekyc.storage.db import transaction
from facekyc.storage.models import ApiKey, Operator, as_utc

router = APIRouter(prefix="/v1", tags=["administration"], route_class=MediaTypeRoute)
RegistryDep = Annotated[Registry, Depends(get_registry)]
Admin = Annotated[Caller, Depends(require("admin"))]


def key_view(key: ApiKey) -> ApiKeyView:
    return ApiKeyView(id=key.id, name=key.name, role=key.role, created_at=as_utc(key.created_at),
                      revoked_at=as_utc(key.revoked_at) if key.revoked_at else None,
                      operator_id=key.operator_id, store=key.store, scope_global=key.scope_global)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED,
             summary="Create an API key (the token is shown once)",
             description="Clerk keys need `operator_id` (and may carry a `store` label, kept in the audit); "
                         "reviewer and auditor keys need either `operator_id` or `global: true`; admin keys "
                         "are global.", responses=problem_responses(404, 415, 422))
def create_api_key(body: ApiKeyIn, registry: RegistryDep, caller: Admin) -> ApiKeyCreated:
    with transaction(registry.sessions) as session:
        key, token = apikeys.create_key(session, body.name, body.role, operator_id=body.operator_id,
                                        store=body.store, scope_global=body.scope_global)
        audit.append(session, actor=caller.actor, action="apikey.created", target=key.id, details={
            "role": key.role, "operator": key.operator_id, "store": key.store, "global": key.scope_global})
    return ApiKeyCreated(**key_view(key).model_dump(), token=token)


@router.get("/me", response_model=ApiKeyView, summary="The calling API key: its name and role",
            description="Any role. Lets a client check a key at sign-in and show the pages that role may use.",
            responses=problem_responses())
def whoami(registry: RegistryDep,
           caller: Annotated[Caller, Depends(require("clerk", "reviewer", "auditor", "admin"))]) -> ApiKeyView:
    with registry.sessions() as session:
        key = session.get(ApiKey, caller.key_id)
        if key is None:  # revoked and deleted between authentication and now
            raise NotFound("no such API key", code="apikey_not_found")
        return key_view(key)


@router.get("/api-keys", response_model=list[ApiKeyView], summary="All API keys (no tokens)",
            responses=problem_responses())
def list_api_keys(registry: RegistryDep, caller: Admin) -> list[ApiKeyView]:
    with registry.sessions() as session:
        return [key_view(k) for k in session.execute(select(ApiKey).order_by(ApiKey.created_at)).scalars()]


@router.delete("/api-keys/{key_id}", response_model=ApiKeyView, summary="Revoke an API key",
               responses=problem_responses(404))
def revoke_api_key(key_id: str, registry: RegistryDep, caller: Admin) -> ApiKeyView:
    with transaction(registry.sessions) as session:
        key = apikeys.revoke(session, key_id)
        if key is None:
            raise NotFound("no such API key", code="apikey_not_found")
        audit.append(session, actor=caller.actor, action="apikey.revoked", target=key.id)
    return key_view(key)


def operator_view(registry: Registry, op: Operator, counts: dict[str, int]) -> OperatorView:
    return OperatorView(id=op.id, name=op.name, country=op.country,
                        max_numbers_per_identity=number_limit(registry.settings, op), numbers=counts)


@router.post("/operators", response_model=OperatorView, status_code=status.HTTP_201_CREATED,
             summary="Add an operator", responses=problem_responses(409, 415, 422))
def create_operator(body: OperatorIn, registry: RegistryDep, caller: Admin) -> OperatorView:
    with transaction(registry.sessions) as session:
        op = operators.create_operator(session, operator_id=body.id, name=body.name, country=body.country,
                                       max_numbers_per_identity=body.max_numbers_per_identity, actor=caller.actor)
    return operator_view(registry, op, {"free": 0, "assigned": 0, "quarantined": 0})


@router.get("/operators/{operator_id}", response_model=OperatorView, summary="An operator and its pool counts",
            responses=problem_responses(404))
def get_operator(operator_id: str, registry: RegistryDep,
                 caller: Annotated[Caller, Depends(require("admin", "clerk", "auditor"))]) -> OperatorView:
    with registry.sessions() as session:
        op = operators.get_operator(session, operator_id)
        if not caller.scope.sees(op.id):
            raise NotFound("no such operator", code="operator_not_found")
        return operator_view(registry, op, pool_counts(session, op.id))


@router.post("/operators/{operator_id}/numbers", response_model=NumbersAdded, status_code=status.HTTP_201_CREATED,
             summary="Add MSISDNs to the operator's pool (E.164 or national form)",
             description="All or nothing: one invalid number rejects the batch (422, `fields` lists "
                         "`msisdns.<index>`).", responses=problem_responses(404, 415, 422))
def add_numbers(operator_id: str, body: NumbersIn, registry: RegistryDep, caller: Admin) -> NumbersAdded:
    with transaction(registry.sessions) as session:
        added, skipped = operators.add_numbers(session, operator_id, body.msisdns, caller.actor)
    return NumbersAdded(added=added, skipped_existing=skipped)
