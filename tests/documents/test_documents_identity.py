"""The document union: dispatch by doc_type and the canonical identity key."""

from __future__ import annotations

from datetime import date

import pytest
from mrz_builders import TD1_SPECIMEN, TD3_SPECIMEN, td3
from stdnum.cn import ric

from facekyc.documents import DOC_TYPES, IdentityDocument, MrzInvalid, identity_key, parse_document
from facekyc.errors import DocumentInvalid


def make_ric_with_x() -> str:
    for seq in range(1000):
        body = f"11010119900307{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number.endswith("X"):
            return number
    raise AssertionError("no X check digit in range")


def test_cn_ric() -> None:
    number = make_ric_with_x()
    doc = parse_document("cn_ric", number)
    assert doc == IdentityDocument("cn_ric", "CHN", number, date(1990, 3, 7), None)
    assert identity_key(doc) == f"CHN:id_card:{number}"


def test_same_chinese_id_typed_differently_gives_the_same_key() -> None:
    number = make_ric_with_x()
    variants = [number, number.lower(), f" {number[:6]} {number[6:14]} {number[14:]} ".lower(),
                "".join(chr(ord(c) + 0xFEE0) for c in number.lower())]  # full-width forms
    keys = {identity_key(parse_document("cn_ric", v)) for v in variants}
    assert keys == {f"CHN:id_card:{number}"}


def test_identity_key_canonicalises_hand_built_documents() -> None:
    doc = IdentityDocument("cn_ric", "chn", "1101 0119 9003 07123x", None, None)
    assert identity_key(doc) == "CHN:id_card:11010119900307123X"


def test_passport_mrz() -> None:
    doc = parse_document("passport_mrz", TD3_SPECIMEN)
    assert doc == IdentityDocument("passport_mrz", "UTO", "L898902C3", date(1974, 8, 12), "ANNA MARIA ERIKSSON")
    assert identity_key(doc) == "UTO:passport:L898902C3"


def test_id_card_mrz() -> None:
    doc = parse_document("id_card_mrz", TD1_SPECIMEN)
    assert (doc.issuing_state, doc.number, doc.display_name) == ("UTO", "D23145890", "ANNA MARIA ERIKSSON")
    assert identity_key(doc) == "UTO:id_card:D23145890"


def test_passport_and_id_card_with_same_number_differ() -> None:
    passport = IdentityDocument("passport_mrz", "UTO", "D23145890", None, None)
    card = IdentityDocument("id_card_mrz", "UTO", "D23145890", None, None)
    assert identity_key(passport) != identity_key(card)


def test_kind_must_match_doc_type() -> None:
    with pytest.raises(MrzInvalid) as caught:
        parse_document("passport_mrz", TD1_SPECIMEN)
    assert caught.value.field == "mrz_format"
    with pytest.raises(MrzInvalid) as caught:
        parse_document("id_card_mrz", TD3_SPECIMEN)
    assert caught.value.field == "mrz_format"


def test_passport_must_be_a_p_document() -> None:
    # The `mrz` package also accepts "DP" in TD3; a passport here must start with P.
    with pytest.raises(MrzInvalid) as caught:
        parse_document("passport_mrz", td3(doc_type="DP"))
    assert caught.value.field == "document_type"


@pytest.mark.parametrize("doc_type", ["", "passport", "CN_RIC", "driving_licence"])
def test_unknown_doc_type(doc_type: str) -> None:
    with pytest.raises(DocumentInvalid) as caught:
        parse_document(doc_type, TD3_SPECIMEN)
    assert caught.value.field == "doc_type"
    assert set(DOC_TYPES) == {"cn_ric", "passport_mrz", "id_card_mrz"}


def test_document_errors_carry_the_document_invalid_code() -> None:
    with pytest.raises(DocumentInvalid) as caught:
        parse_document("cn_ric", "123")
    assert (caught.value.code, caught.value.status, caught.value.field) == ("document_invalid", 422, "number")
