"""China resident ID numbers: synthetic numbers with stdnum-computed check digits, never real ones."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from facekyc.documents import ChinaRicInvalid, parse_china_ric
from facekyc.errors import DocumentInvalid


def make_ric(region: str = "110101", birth: str = "19900307", seq: str = "123") -> str:
    body = region + birth + seq
    return body + ric.calc_check_digit(body + "0")


def with_bad_check_digit(number: str) -> str:
    good = number[-1]
    return number[:-1] + ("1" if good != "1" else "2")


def find_x_number() -> str:
    for seq in range(1000):
        number = make_ric(seq=f"{seq:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no X check digit in range")


def test_valid_number_gives_birth_date_region_and_sex() -> None:
    parsed = parse_china_ric(make_ric(seq="123"))
    assert parsed.birth_date == date(1990, 3, 7)
    assert parsed.region_code == "110101"
    assert parsed.sex == "M"  # 17th digit 3 is odd
    assert parse_china_ric(make_ric(seq="124")).sex == "F"


def test_lowercase_x_spaces_and_full_width_digits_are_compacted() -> None:
    number = find_x_number()
    spaced = f"{number[:6]} {number[6:14]} {number[14:-1]}x"
    assert parse_china_ric(spaced).number == number
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)  # what CJK input methods type
    assert parse_china_ric(full_width).number == number
    assert parse_china_ric(f"  {number[:6]}-{number[6:]}  ").number == number


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (make_ric()[:-1], "wrong_length"),
        (make_ric() + "1", "wrong_length"),
        ("", "wrong_length"),
        ("A" + make_ric()[1:], "invalid_characters"),
        (make_ric()[:-1] + "Y", "invalid_characters"),
        (with_bad_check_digit(make_ric()), "bad_checksum"),
        (make_ric(birth="19901307"), "invalid_birth_date"),
        (make_ric(birth="19900230"), "invalid_birth_date"),
        (make_ric(region="999999"), "unknown_region"),
    ],
)
def test_failures_name_field_number_and_a_precise_reason(value: str, reason: str) -> None:
    with pytest.raises(ChinaRicInvalid) as caught:
        parse_china_ric(value)
    err = caught.value
    assert isinstance(err, DocumentInvalid)
    assert err.field == "number"
    assert err.code == "document_invalid"
    assert err.reason == reason
    assert err.message.startswith(f"{reason}:")


def test_stdnum_raises_what_we_map_from() -> None:
    """Guards the mapping against a stdnum upgrade changing which exception it raises."""
    from stdnum import exceptions as e

    cases = [
        (make_ric()[:-1], e.InvalidLength),
        ("A" + make_ric()[1:], e.InvalidFormat),
        (with_bad_check_digit(make_ric()), e.InvalidChecksum),
        (make_ric(birth="19901307"), e.InvalidComponent),
        (make_ric(region="999999"), e.InvalidComponent),
    ]
    for value, exc in cases:
        with pytest.raises(exc):
            ric.validate(value)


def test_future_birth_date_is_invalid() -> None:
    number = make_ric(birth="20300101")
    with pytest.raises(ChinaRicInvalid) as caught:
        parse_china_ric(number, today=date(2025, 1, 1))
    assert caught.value.reason == "invalid_birth_date"
    assert parse_china_ric(number, today=date(2031, 1, 1)).birth_date == date(2030, 1, 1)


def test_messages_and_repr_never_hold_the_number() -> None:
    number = with_bad_check_digit(make_ric())
    with pytest.raises(ChinaRicInvalid) as caught:
        parse_china_ric(number)
    assert number not in str(caught.value)
    good = make_ric()
    assert good not in repr(parse_china_ric(good))
