"""Valid, synthetic document and SIM numbers for tests (never a real person's)."""

from __future__ import annotations

from stdnum import luhn
from stdnum.cn import ric


def ric_number(seq: int, birth: str = "19850307") -> str:
    """A China resident ID for Beijing Dongcheng (110101), the given birth date and sequence."""
    body = f"110101{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def iccid(seq: int, issuer: str = "898601") -> str:
    """A Luhn-valid ICCID under a Chinese issuer prefix."""
    body = f"{issuer}{seq:013d}"
    return body + luhn.calc_check_digit(body)
