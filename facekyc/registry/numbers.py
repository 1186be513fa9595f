"""Numbers and SIMs: E.164 MSISDNs (phonenumbers), ICCIDs (Luhn), and atomic number assignment.

PostgreSQL takes the first free row with SELECT ... FOR UPDATE SKIP LOCKED, so concurrent
registrations pick different rows without waiting. SQLite has no row locks: a conditional
UPDATE ... WHERE status = 'free' either wins (rowcount 1) or we try the next candidate.
"""

from __future__ import annotations

import re

import phonenumbers
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from stdnum import luhn
from stdnum.exceptions import ValidationError

from facekyc.registry.errors import IccidInvalid, NumberInvalid
from facekyc.storage.models import PhoneNumber, utcnow

_ICCID = re.compile(r"89[0-9]{16,18}")
MAX_ASSIGN_ATTEMPTS = 20


def normalise_msisdn(value: str, country: str) -> str:
    """E.164 form of a valid mobile-capable number; national input is read for `country`."""
    try:
        parsed = phonenumbers.parse(value, country.upper())
    except phonenumbers.NumberParseException as exc:
        raise NumberInvalid(f"not a phone number: {exc}", field="msisdn") from None
    if not phonenumbers.is_valid_number(parsed):
        raise NumberInvalid("not a valid phone number for its country", field="msisdn")
    kind = phonenumbers.number_type(parsed)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise NumberInvalid("not a mobile number", field="msisdn")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def validate_iccid(value: str) -> str:
    """19-20 digits starting 89 (ITU-T E.118) with a valid Luhn check digit."""
    iccid = re.sub(r"[\s-]", "", value)
    if not _ICCID.fullmatch(iccid):
        raise IccidInvalid("an ICCID is 19 or 20 digits starting with 89", field="iccid")
    try:
        luhn.validate(iccid)
    except ValidationError:
        raise IccidInvalid("the ICCID check digit (Luhn) does not match", field="iccid") from None
    return iccid


def assign_number(session: Session, operator_id: str) -> PhoneNumber | None:
    """Take one free number of the operator inside the caller's transaction, or None if none is left."""
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(
            select(PhoneNumber).where(PhoneNumber.operator_id == operator_id, PhoneNumber.status == "free")
            .order_by(PhoneNumber.id).limit(1).with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if row is not None:
            row.status, row.updated_at = "assigned", utcnow()
            session.flush()
        return row
    for _ in range(MAX_ASSIGN_ATTEMPTS):
        candidate = session.execute(
            select(PhoneNumber.id).where(PhoneNumber.operator_id == operator_id, PhoneNumber.status == "free")
            .order_by(PhoneNumber.id).limit(1)
        ).scalar_one_or_none()
        if candidate is None:
            return None
        result = session.execute(
            update(PhoneNumber).where(PhoneNumber.id == candidate, PhoneNumber.status == "free")
            .values(status="assigned", updated_at=utcnow()).execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            row = session.get(PhoneNumber, candidate, populate_existing=True)
            return row
    return None


def pool_counts(session: Session, operator_id: str) -> dict[str, int]:
    rows = session.execute(select(PhoneNumber.status, func.count()).where(PhoneNumber.operator_id == operator_id)
                           .group_by(PhoneNumber.status)).all()
    counts = {"free": 0, "assigned": 0, "quarantined": 0}
    counts.update({str(status): int(n) for status, n in rows})
    return counts
