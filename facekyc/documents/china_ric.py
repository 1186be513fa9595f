"""China resident identity card numbers (居民身份证号码, GB 11643-1999), validated with python-stdnum."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from facekyc.documents._text import compact_number, mask
from facekyc.errors import DocumentInvalid

RicReason = Literal[
    "wrong_length", "invalid_characters", "bad_checksum", "invalid_birth_date", "unknown_region"
]

_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


class ChinaRicInvalid(DocumentInvalid):
    """A resident identity card number failed; `reason` is a stable sub-code a UI can translate."""

    def __init__(self, reason: RicReason, message: str) -> None:
        super().__init__(f"{reason}: {message}", field="number")
        self.reason: RicReason = reason


@dataclass(frozen=True, slots=True, repr=False)
class ChinaResidentId:
    """A validated card number and what it encodes (no name: the number does not carry one)."""

    number: str
    birth_date: date
    region_code: str
    sex: Literal["F", "M"]

    def __repr__(self) -> str:
        # Keeps a full ID number out of tracebacks and logs that print the object.
        return f"ChinaResidentId(number={mask(self.number)!r}, region_code={self.region_code!r})"


def parse_china_ric(value: str, *, today: date | None = None) -> ChinaResidentId:
    """Validate length, characters, check digit, birth date (not in the future) and region code."""
    number = compact_number(value)
    if len(number) != 18:
        raise ChinaRicInvalid("wrong_length", "a resident identity card number has 18 characters")
    if not _SHAPE.fullmatch(number):
        raise ChinaRicInvalid("invalid_characters", "expected 17 digits then a digit or X")
    try:
        ric.validate(number)
    except stdnum_errors.InvalidChecksum:
        raise ChinaRicInvalid("bad_checksum", "the check digit does not match") from None
    except stdnum_errors.InvalidComponent:
        # stdnum raises the same exception for a bad date and an unknown region: tell them apart.
        if _birth_date_or_none(number) is None:
            raise ChinaRicInvalid("invalid_birth_date", "the birth date part is not a date") from None
        raise ChinaRicInvalid("unknown_region", "the region code is unknown for that birth year") from None
    except stdnum_errors.InvalidLength:
        raise ChinaRicInvalid("wrong_length", "a resident identity card number has 18 characters") from None
    except stdnum_errors.ValidationError:
        raise ChinaRicInvalid("invalid_characters", "expected 17 digits then a digit or X") from None
    birth = ric.get_birth_date(number)
    if birth > (today or date.today()):
        raise ChinaRicInvalid("invalid_birth_date", "the birth date is in the future")
    return ChinaResidentId(
        number=number,
        birth_date=birth,
        region_code=number[:6],
        sex="M" if int(number[16]) % 2 else "F",
    )


def _birth_date_or_none(number: str) -> date | None:
    try:
        return ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        return None
