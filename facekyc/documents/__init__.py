"""Identity document numbers: China resident ID cards and ICAO 9303 MRZs (TD1 cards, TD3 passports).

Everything returns frozen dataclasses and fails with `DocumentInvalid` whose `field` names what is
wrong. Reprs and messages never carry a full document number.
"""

from facekyc.documents.china_ric import ChinaResidentId, ChinaRicInvalid, parse_china_ric
from facekyc.documents.identity import DOC_TYPES, DocType, IdentityDocument, identity_key, parse_document
from facekyc.documents.mrz import MRZ_FIELDS, MrzDocument, MrzInvalid, MrzKind, normalise_mrz, parse_mrz

__all__ = [
    "DOC_TYPES",
    "MRZ_FIELDS",
    "ChinaResidentId",
    "ChinaRicInvalid",
    "DocType",
    "IdentityDocument",
    "MrzDocument",
    "MrzInvalid",
    "MrzKind",
    "identity_key",
    "normalise_mrz",
    "parse_china_ric",
    "parse_document",
    "parse_mrz",
]
