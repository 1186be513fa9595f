"""ICAO 9303 machine readable zones: TD1 (ID cards, 3x30) and TD3 (passports, 2x44).

Check digits come from the `mrz` package; dates, sex, names and state codes are read here so
that "today" is injectable and the two-digit-year rules are ours. Every failing field is
collected so a UI can highlight each one, not just the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal, cast

from mrz.base.functions import hash_string
from mrz.checker.td1 import TD1CodeChecker
from mrz.checker.td3 import TD3CodeChecker

from facekyc.documents._text import mask
from facekyc.errors import DocumentInvalid

MrzKind = Literal["TD1", "TD3"]
Sex = Literal["F", "M", "X"]

#: Field names a UI can highlight, in the order the first failing one is chosen.
MRZ_FIELDS: tuple[str, ...] = (
    "mrz_format",
    "document_type",
    "issuing_state",
    "document_number",
    "birth_date",
    "sex",
    "expiry_date",
    "nationality",
    "optional_data",
    "names",
    "final_check",
)

_SHAPES: dict[tuple[int, int], MrzKind] = {(3, 30): "TD1", (2, 44): "TD3"}
_LINE_BREAK = re.compile(r"\r?\n")
_MRZ_CHARS = re.compile(r"[A-Z0-9<]*")
_STATE_CODE = re.compile(r"[A-Z]{3}|[A-Z]{2}<|[A-Z]<<")
_NAME_CHARS = re.compile(r"[A-Z<]+")

# What the `mrz` checkers report, mapped to our field names (their date, sex, state and name
# checks are not used: they read the real clock and reject the ICAO sex code "X").
_LIBRARY_CHECKS: dict[str, str] = {
    "document type format": "document_type",
    "document number format": "document_number",
    "document number hash": "document_number",
    "birth date hash": "birth_date",
    "expiry date hash": "expiry_date",
    "optional data hash": "optional_data",
    "final hash": "final_check",
}
_PER_FIELD_DIGITS = {"document number hash", "birth date hash", "expiry date hash", "optional data hash"}


class MrzInvalid(DocumentInvalid):
    """An MRZ failed; `field` is the first failing field and `fields` lists all of them."""

    def __init__(self, fields: Iterable[str], message: str) -> None:
        ordered = sorted(set(fields), key=MRZ_FIELDS.index)
        super().__init__(message, field=ordered[0])
        self.fields: list[str] = ordered


@dataclass(frozen=True, slots=True, repr=False)
class MrzDocument:
    """The fields of a checked MRZ; `<` fillers are removed and names use spaces."""

    kind: MrzKind
    document_type: str
    issuing_state: str
    document_number: str
    nationality: str
    birth_date: date | None
    expiry_date: date | None
    sex: Sex
    surname: str
    given_names: str
    optional_data: str
    optional_data_2: str = ""

    def __repr__(self) -> str:
        # Keeps a full document number out of tracebacks and logs that print the object.
        return (f"MrzDocument(kind={self.kind!r}, document_type={self.document_type!r}, "
                f"issuing_state={self.issuing_state!r}, document_number={mask(self.document_number)!r})")


@dataclass(frozen=True, slots=True)
class _Raw:
    """The fixed-position slices of one MRZ, fillers still in place."""

    document_type: str
    issuing_state: str
    names: str
    document_number: str
    number_check: str
    nationality: str
    birth: str
    sex: str
    expiry: str
    optional_data: str
    optional_data_2: str
    number_overflow: bool


def normalise_mrz(value: str) -> list[str]:
    """Strip, upper-case and split on LF or CRLF; anything but A-Z, 0-9 and `<` is refused."""
    lines = [line.strip(" \t") for line in _LINE_BREAK.split(value.strip().upper())]
    lines = [line for line in lines if line]
    if not lines or not all(_MRZ_CHARS.fullmatch(line) for line in lines):
        raise MrzInvalid(["mrz_format"], "an MRZ holds only A-Z, 0-9 and '<'")
    return lines


def parse_mrz(
    value: str,
    *,
    expected_kind: MrzKind | None = None,
    reject_expired: bool = False,
    today: date | None = None,
) -> MrzDocument:
    """Check every check digit and field of a TD1 or TD3 MRZ and return its contents."""
    today = today or date.today()
    lines = normalise_mrz(value)
    kind = _SHAPES.get((len(lines), len(lines[0]))) if len({len(ln) for ln in lines}) == 1 else None
    if kind is None:
        raise MrzInvalid(["mrz_format"], "expected 3 lines of 30 (TD1) or 2 lines of 44 (TD3)")
    if expected_kind is not None and kind != expected_kind:
        raise MrzInvalid(["mrz_format"], f"expected a {expected_kind} MRZ, got {kind}")

    raw = _slice_td1(lines) if kind == "TD1" else _slice_td3(lines)
    failed = _library_failures(kind, lines, raw)

    if not _STATE_CODE.fullmatch(raw.issuing_state):
        failed.add("issuing_state")
    if not _STATE_CODE.fullmatch(raw.nationality):
        failed.add("nationality")
    sex = _read_sex(raw.sex)
    if sex is None:
        failed.add("sex")
    surname, given_names = _read_names(raw.names)
    if not surname:
        failed.add("names")
    birth_ok, birth = _read_date(raw.birth, today, expiry=False)
    if not birth_ok:
        failed.add("birth_date")
    expiry_ok, expiry = _read_date(raw.expiry, today, expiry=True)
    if not expiry_ok or (birth is not None and expiry is not None and expiry <= birth):
        failed.add("expiry_date")
    expired = reject_expired and expiry is not None and expiry < today
    if expired:
        failed.add("expiry_date")

    if failed:
        names = sorted(failed, key=MRZ_FIELDS.index)
        note = " (document expired)" if expired else ""
        raise MrzInvalid(failed, f"{kind} MRZ failed: {', '.join(names)}{note}")
    return MrzDocument(
        kind=kind,
        document_type=raw.document_type.rstrip("<"),
        issuing_state=raw.issuing_state.rstrip("<"),
        document_number=raw.document_number.rstrip("<"),
        nationality=raw.nationality.rstrip("<"),
        birth_date=birth,
        expiry_date=expiry,
        sex=cast(Sex, sex),
        surname=surname,
        given_names=given_names,
        optional_data=raw.optional_data.strip("<"),
        optional_data_2=raw.optional_data_2.strip("<"),
    )


def _slice_td1(lines: list[str]) -> _Raw:
    """TD1 layout; a number longer than 9 continues in the optional data (ICAO 9303-5, note j)."""
    number, check, optional = lines[0][5:14], lines[0][14], lines[0][15:30]
    overflow = check == "<" and not number.endswith("<")
    if overflow:
        extension = optional.split("<", 1)[0]
        number, check = number + extension[:-1], extension[-1:]
        optional = optional[len(extension):]
    return _Raw(
        document_type=lines[0][0:2], issuing_state=lines[0][2:5], names=lines[2],
        document_number=number, number_check=check, nationality=lines[1][15:18],
        birth=lines[1][0:6], sex=lines[1][7], expiry=lines[1][8:14],
        optional_data=optional, optional_data_2=lines[1][18:29], number_overflow=overflow,
    )


def _slice_td3(lines: list[str]) -> _Raw:
    """TD3 layout: names on line 1, everything else on line 2."""
    return _Raw(
        document_type=lines[0][0:2], issuing_state=lines[0][2:5], names=lines[0][5:44],
        document_number=lines[1][0:9], number_check=lines[1][9], nationality=lines[1][10:13],
        birth=lines[1][13:19], sex=lines[1][20], expiry=lines[1][21:27],
        optional_data=lines[1][28:42], optional_data_2="", number_overflow=False,
    )


def _library_failures(kind: MrzKind, lines: list[str], raw: _Raw) -> set[str]:
    """Run the `mrz` checker and map its failed checks to field names."""
    code = "\n".join(lines)
    try:
        checker = TD1CodeChecker(code) if kind == "TD1" else TD3CodeChecker(code)
    except (ValueError, TypeError, IndexError, AttributeError):
        raise MrzInvalid(["mrz_format"], f"{kind} MRZ is malformed") from None
    falses = {str(desc) for desc, ok in checker.report.fields if ok is False}
    if raw.number_overflow:
        # The library only knows 9-character numbers; the long form carries its own check digit.
        falses.discard("document number hash")
        if len(raw.document_number) < 10 or hash_string(raw.document_number) != raw.number_check:
            falses.add("document number hash")
    if falses & _PER_FIELD_DIGITS:
        # One misread breaks its field's digit and the composite too: name only the field.
        falses.discard("final hash")
    return {_LIBRARY_CHECKS[desc] for desc in falses if desc in _LIBRARY_CHECKS}


def _read_sex(code: str) -> Sex | None:
    """ICAO sex codes; `<` (unspecified) is reported as "X" like the newer documents do."""
    if code in ("F", "M", "X"):
        return cast(Sex, code)
    return "X" if code == "<" else None


def _read_names(field: str) -> tuple[str, str]:
    """Primary and secondary identifiers; digits are an OCR misread and make the name invalid."""
    body = field.rstrip("<")
    if not body or not _NAME_CHARS.fullmatch(body) or body.startswith("<"):
        return "", ""
    primary, _, secondary = body.partition("<<")
    return " ".join(primary.split("<")), " ".join(p for p in secondary.split("<") if p)


def _read_date(field: str, today: date, *, expiry: bool) -> tuple[bool, date | None]:
    """YYMMDD: (valid, date); unknown parts filled with `<` are valid but give no date."""
    if "<" in field:
        known = field.replace("<", "")
        return known == "" or (known.isascii() and known.isdigit()), None
    if not (field.isascii() and field.isdigit()):
        return False, None
    yy, month, day = int(field[0:2]), int(field[2:4]), int(field[4:6])
    centuries = (2000,) if expiry else (2000, 1900)
    for century in centuries:
        try:
            candidate = date(century + yy, month, day)
        except ValueError:
            continue
        if expiry or candidate <= today:
            return True, candidate
    return False, None
