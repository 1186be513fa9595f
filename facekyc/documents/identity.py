"""One identity-document type for the rest of the service, whatever was presented."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from facekyc.documents._text import compact_number, mask
from facekyc.documents.china_ric import parse_china_ric
from facekyc.documents.mrz import MrzDocument, MrzInvalid, parse_mrz
from facekyc.errors import DocumentInvalid

DocType = Literal["cn_ric", "passport_mrz", "id_card_mrz"]
DOC_TYPES: tuple[str, ...] = get_args(DocType)

# Passports and identity cards are separate number spaces, even from the same state.
_FAMILY: dict[str, str] = {"cn_ric": "id_card", "id_card_mrz": "id_card", "passport_mrz": "passport"}


@dataclass(frozen=True, slots=True, repr=False)
class IdentityDocument:
    """What registration needs from a document: who issued it, its number, birth date, a name."""

    doc_type: DocType
    issuing_state: str
    number: str
    birth_date: date | None
    display_name: str | None

    def __repr__(self) -> str:
        # Keeps a full document number out of tracebacks and logs that print the object.
        return (f"IdentityDocument(doc_type={self.doc_type!r}, issuing_state={self.issuing_state!r}, "
                f"number={mask(self.number)!r})")


def parse_document(doc_type: str, value: str, *, today: date | None = None) -> IdentityDocument:
    """Validate `value` as the given document type; failures raise DocumentInvalid with a field."""
    if doc_type == "cn_ric":
        ric = parse_china_ric(value, today=today)
        return IdentityDocument("cn_ric", "CHN", ric.number, ric.birth_date, None)
    if doc_type == "passport_mrz":
        mrz = parse_mrz(value, expected_kind="TD3", today=today)
        if not mrz.document_type.startswith("P"):
            raise MrzInvalid(["document_type"], "a passport MRZ starts with P")
        return _from_mrz("passport_mrz", mrz)
    if doc_type == "id_card_mrz":
        return _from_mrz("id_card_mrz", parse_mrz(value, expected_kind="TD1", today=today))
    raise DocumentInvalid(f"doc_type must be one of {', '.join(DOC_TYPES)}", field="doc_type")


def identity_key(doc: IdentityDocument) -> str:
    """Canonical "issuing_state:family:number", the input of the keyed blind index."""
    family = _FAMILY.get(doc.doc_type)
    if family is None:
        raise DocumentInvalid(f"doc_type must be one of {', '.join(DOC_TYPES)}", field="doc_type")
    state = unicodedata.normalize("NFKC", doc.issuing_state).strip().upper().rstrip("<")
    return f"{state}:{family}:{compact_number(doc.number)}"


def _from_mrz(doc_type: DocType, mrz: MrzDocument) -> IdentityDocument:
    name = " ".join(part for part in (mrz.given_names, mrz.surname) if part) or None
    return IdentityDocument(doc_type, mrz.issuing_state, mrz.document_number,
                            mrz.birth_date, name)
