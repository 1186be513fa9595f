"""Operators and their number pools: creation, adding MSISDNs, listing. Shared by the API and the CLI so
both check, normalise and audit the same way."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from facekyc.errors import InputError
from facekyc.registry import audit
from facekyc.registry.errors import Conflict, NotFound, NumberInvalid
from facekyc.registry.numbers import normalise_msisdn, pool_counts
from facekyc.storage.models import Operator, PhoneNumber

OPERATOR_ID = re.compile(r"[a-z0-9][a-z0-9_-]{1,31}")
COUNTRY = re.compile(r"[A-Z]{2}")
MAX_NUMBERS_PER_BATCH = 10_000


def create_operator(session: Session, *, operator_id: str, name: str, country: str,
                    max_numbers_per_identity: int | None, actor: str) -> Operator:
    """Add an operator (409 if the id exists) and audit it, inside the caller's transaction."""
    if not OPERATOR_ID.fullmatch(operator_id):
        raise InputError("an operator id is 2-32 characters: lower-case letters, digits, _ or -",
                         code="operator_id_invalid", field="id")
    if not COUNTRY.fullmatch(country):
        raise InputError("country is an ISO 3166 two-letter code such as CN", code="country_invalid", field="country")
    if session.get(Operator, operator_id) is not None:
        raise Conflict("an operator with this id exists", code="operator_exists", field="id")
    op = Operator(id=operator_id, name=name, country=country, max_numbers_per_identity=max_numbers_per_identity)
    session.add(op)
    session.flush()
    audit.append(session, actor=actor, action="operator.created", target=op.id,
                 details={"max_numbers_per_identity": op.max_numbers_per_identity})
    return op


def get_operator(session: Session, operator_id: str) -> Operator:
    """The operator, or 404 operator_not_found."""
    op = session.get(Operator, operator_id)
    if op is None:
        raise NotFound("no such operator", code="operator_not_found")
    return op


def add_numbers(session: Session, operator_id: str, msisdns: Sequence[str], actor: str) -> tuple[int, int]:
    """Normalise and add numbers to the pool, all or nothing; returns (added, already present)."""
    op = get_operator(session, operator_id)
    if not msisdns or len(msisdns) > MAX_NUMBERS_PER_BATCH:
        raise InputError(f"send 1 to {MAX_NUMBERS_PER_BATCH} numbers at a time", code="msisdn_count",
                         field="msisdns")
    normalised: list[str] = []
    bad: list[str] = []
    for i, raw in enumerate(msisdns):
        try:
            normalised.append(normalise_msisdn(raw, op.country))
        except NumberInvalid:
            bad.append(f"msisdns.{i}")
    if bad:
        error = InputError(f"{len(bad)} invalid number(s) for {op.country}", code="msisdn_invalid", field=bad[0])
        error.fields = bad  # type: ignore[attr-defined]
        raise error
    unique = list(dict.fromkeys(normalised))
    existing = set(session.execute(select(PhoneNumber.msisdn).where(PhoneNumber.msisdn.in_(unique))).scalars())
    fresh = [m for m in unique if m not in existing]
    session.add_all([PhoneNumber(operator_id=op.id, msisdn=m, status="free") for m in fresh])
    audit.append(session, actor=actor, action="numbers.added", target=op.id, details={"count": len(fresh)})
    return len(fresh), len(normalised) - len(fresh)


def list_operators(session: Session) -> list[tuple[Operator, dict[str, int]]]:
    """Every operator with its pool counts (free, assigned, quarantined), by id."""
    ops = session.execute(select(Operator).order_by(Operator.id)).scalars().all()
    return [(op, pool_counts(session, op.id)) for op in ops]


def list_numbers(session: Session, operator_id: str) -> list[PhoneNumber]:
    """The operator's numbers in pool order (404 if there is no such operator)."""
    get_operator(session, operator_id)
    return list(session.execute(select(PhoneNumber).where(PhoneNumber.operator_id == operator_id)
                                .order_by(PhoneNumber.id)).scalars())
