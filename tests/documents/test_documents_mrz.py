"""ICAO 9303 MRZ parsing on the Utopia specimens and single-fault variants of them."""

from __future__ import annotations

from datetime import date

import pytest
from mrz_builders import TD1_SPECIMEN, TD3_SPECIMEN, bump_digit, replace_char, td1, td3

from facekyc.documents import MRZ_FIELDS, MrzInvalid, normalise_mrz, parse_mrz
from facekyc.errors import DocumentInvalid

TODAY = date(2010, 6, 1)


def failure(value: str, **kwargs: object) -> MrzInvalid:
    with pytest.raises(MrzInvalid) as caught:
        parse_mrz(value, **kwargs)  # type: ignore[arg-type]
    assert isinstance(caught.value, DocumentInvalid)
    assert caught.value.field == caught.value.fields[0]
    return caught.value


def test_builders_reproduce_the_icao_specimens() -> None:
    assert td3() == TD3_SPECIMEN
    assert td1() == TD1_SPECIMEN


def test_td3_specimen() -> None:
    doc = parse_mrz(TD3_SPECIMEN, today=TODAY)
    assert doc.kind == "TD3"
    assert (doc.document_type, doc.issuing_state, doc.nationality) == ("P", "UTO", "UTO")
    assert doc.document_number == "L898902C3"
    assert doc.birth_date == date(1974, 8, 12)
    assert doc.expiry_date == date(2012, 4, 15)
    assert doc.sex == "F"
    assert (doc.surname, doc.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert doc.optional_data == "ZE184226B"


def test_td1_specimen() -> None:
    doc = parse_mrz(TD1_SPECIMEN, today=TODAY)
    assert doc.kind == "TD1"
    assert (doc.document_type, doc.issuing_state, doc.nationality) == ("I", "UTO", "UTO")
    assert doc.document_number == "D23145890"
    assert doc.birth_date == date(1974, 8, 12)
    assert doc.expiry_date == date(2012, 4, 15)
    assert (doc.sex, doc.surname, doc.given_names) == ("F", "ERIKSSON", "ANNA MARIA")
    assert doc.optional_data == doc.optional_data_2 == ""


def test_input_is_normalised() -> None:
    messy = "  " + TD3_SPECIMEN.lower().replace("\n", " \r\n") + "\n\n"
    assert parse_mrz(messy).document_number == "L898902C3"
    assert normalise_mrz(TD1_SPECIMEN.replace("\n", "\r\n")) == TD1_SPECIMEN.split("\n")


@pytest.mark.parametrize(
    "value",
    [
        "",
        TD3_SPECIMEN.replace("ERIKSSON", "ERIK SON"),
        TD3_SPECIMEN.replace("<<ANNA", "<«ANNA"),
        TD3_SPECIMEN.replace("ERIKSSON", "ÉRIKSSON"),
        TD3_SPECIMEN.replace("\n", "\r"),
        TD3_SPECIMEN[:-1],
        TD3_SPECIMEN.split("\n")[1],
        TD1_SPECIMEN + "\n" + "<" * 30,
        TD3_SPECIMEN.split("\n")[0] + "\n" + TD1_SPECIMEN.split("\n")[1],
    ],
)
def test_bad_shape_or_characters_is_mrz_format(value: str) -> None:
    err = failure(value)
    assert err.fields == ["mrz_format"]


# (line, position of the check digit, field it protects)
TD3_DIGITS = [(1, 9, "document_number"), (1, 19, "birth_date"), (1, 27, "expiry_date"),
              (1, 42, "optional_data"), (1, 43, "final_check")]
TD1_DIGITS = [(0, 14, "document_number"), (1, 6, "birth_date"), (1, 14, "expiry_date"),
              (1, 29, "final_check")]


@pytest.mark.parametrize(("line", "pos", "field"), TD3_DIGITS)
def test_td3_one_bad_check_digit_names_exactly_its_field(line: int, pos: int, field: str) -> None:
    err = failure(bump_digit(TD3_SPECIMEN, line, pos))
    assert err.fields == [field]
    assert err.field == field


@pytest.mark.parametrize(("line", "pos", "field"), TD1_DIGITS)
def test_td1_one_bad_check_digit_names_exactly_its_field(line: int, pos: int, field: str) -> None:
    err = failure(bump_digit(TD1_SPECIMEN, line, pos))
    assert err.fields == [field]


def test_misread_data_character_names_its_field() -> None:
    # 'L898902C3' -> 'L898902C4': the document number no longer matches its digit.
    assert failure(replace_char(TD3_SPECIMEN, 1, 8, "4")).fields == ["document_number"]
    # TD1 optional data has no digit of its own: only the composite catches it.
    assert failure(replace_char(TD1_SPECIMEN, 0, 20, "B")).fields == ["final_check"]


def test_all_failed_fields_are_collected_in_order() -> None:
    value = bump_digit(bump_digit(TD3_SPECIMEN, 1, 27), 1, 19)
    err = failure(value)
    assert err.fields == ["birth_date", "expiry_date"]
    assert err.field == "birth_date"
    value = replace_char(bump_digit(TD1_SPECIMEN, 0, 14), 1, 7, "Q")
    assert failure(value).fields == ["document_number", "sex"]
    assert all(f in MRZ_FIELDS for f in failure(value).fields)


def test_invalid_dates_with_matching_digits() -> None:
    assert failure(td3(birth="741312")).fields == ["birth_date"]
    assert failure(td3(expiry="120231")).fields == ["expiry_date"]
    assert failure(td3(birth="74A812")).fields == ["birth_date"]


def test_unknown_birth_date_is_allowed_without_a_date() -> None:
    assert parse_mrz(td3(birth="<<<<<<"), today=TODAY).birth_date is None
    assert parse_mrz(td3(birth="74<<<<"), today=TODAY).birth_date is None


def test_two_digit_years() -> None:
    today = date(2024, 3, 1)
    assert parse_mrz(td3(birth="050101", expiry="300101"), today=today).birth_date == date(2005, 1, 1)
    assert parse_mrz(td3(birth="240301", expiry="300101"), today=today).birth_date == date(2024, 3, 1)
    assert parse_mrz(td3(birth="240302", expiry="300101"), today=today).birth_date == date(1924, 3, 2)
    assert parse_mrz(td3(birth="300101", expiry="300101"), today=today).birth_date == date(1930, 1, 1)
    assert parse_mrz(td3(birth="000229", expiry="300101"), today=today).birth_date == date(2000, 2, 29)
    doc = parse_mrz(td3(birth="650101", expiry="751231"), today=today)
    assert doc.expiry_date == date(2075, 12, 31)


def test_expiry_before_birth_is_rejected() -> None:
    assert failure(td3(birth="100101", expiry="090101"), today=date(2024, 1, 1)).fields == ["expiry_date"]


def test_reject_expired_is_optional_and_uses_injected_today() -> None:
    assert parse_mrz(TD3_SPECIMEN, today=date(2020, 1, 1)).expiry_date == date(2012, 4, 15)
    err = failure(TD3_SPECIMEN, reject_expired=True, today=date(2012, 4, 16))
    assert err.fields == ["expiry_date"]
    assert "expired" in err.message
    assert parse_mrz(TD3_SPECIMEN, reject_expired=True, today=date(2012, 4, 15)).kind == "TD3"


def test_sex_codes() -> None:
    assert parse_mrz(td3(sex="M")).sex == "M"
    assert parse_mrz(td3(sex="X")).sex == "X"
    assert parse_mrz(td3(sex="<")).sex == "X"
    assert failure(td3(sex="Q")).fields == ["sex"]


def test_names_states_and_document_type() -> None:
    assert failure(td3(names="ERIK5SON<<ANNA")).fields == ["names"]
    assert failure(td3(names="<<ANNA")).fields == ["names"]
    assert failure(td3(state="U1O")).fields == ["issuing_state"]
    assert failure(td3(nationality="12<")).fields == ["nationality"]
    assert failure(td3(doc_type="V<")).fields == ["document_type"]
    assert failure(td1(doc_type="P<")).fields == ["document_type"]
    doc = parse_mrz(td3(state="D<<", nationality="D<<", names="MUSTERMANN"))
    assert (doc.issuing_state, doc.nationality, doc.surname, doc.given_names) == ("D", "D", "MUSTERMANN", "")


def test_td1_long_document_number_continues_in_optional_data() -> None:
    doc = parse_mrz(td1(number="D23145890123", optional_2="AB12"))
    assert doc.document_number == "D23145890123"
    assert doc.optional_data == ""
    assert doc.optional_data_2 == "AB12"
    bad = td1(number="D23145890123")
    lines = bad.split("\n")
    digit = lines[0][18]
    err = failure(replace_char(bad, 0, 18, str((int(digit) + 1) % 10)))
    assert err.fields == ["document_number"]


def test_expected_kind() -> None:
    assert failure(TD1_SPECIMEN, expected_kind="TD3").fields == ["mrz_format"]
    assert parse_mrz(TD1_SPECIMEN, expected_kind="TD1").kind == "TD1"


def test_errors_and_repr_never_hold_the_document_number() -> None:
    err = failure(bump_digit(TD3_SPECIMEN, 1, 9))
    assert "L898902C3" not in str(err)
    assert "L898902C3" not in repr(parse_mrz(TD3_SPECIMEN))
