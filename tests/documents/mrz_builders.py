"""Builds ICAO 9303 MRZs for tests with an independent 7-3-1 check digit (not the `mrz` package's)."""

from __future__ import annotations

TD3_SPECIMEN = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
)
TD1_SPECIMEN = (
    "I<UTOD231458907<<<<<<<<<<<<<<<\n"
    "7408122F1204159UTO<<<<<<<<<<<6\n"
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"
)


def check_digit(text: str) -> str:
    total = 0
    for i, char in enumerate(text):
        if char.isdigit():
            value = int(char)
        elif char == "<":
            value = 0
        else:
            value = ord(char) - ord("A") + 10
        total += value * (7, 3, 1)[i % 3]
    return str(total % 10)


def td3(
    *,
    doc_type: str = "P<",
    state: str = "UTO",
    names: str = "ERIKSSON<<ANNA<MARIA",
    number: str = "L898902C3",
    nationality: str = "UTO",
    birth: str = "740812",
    sex: str = "F",
    expiry: str = "120415",
    optional: str = "ZE184226B",
) -> str:
    line1 = (doc_type + state + names).ljust(44, "<")[:44]
    optional = optional.ljust(14, "<")
    opt_cd = "<" if optional == "<" * 14 else check_digit(optional)
    line2 = (number.ljust(9, "<") + check_digit(number.ljust(9, "<")) + nationality + birth + check_digit(birth)
             + sex + expiry + check_digit(expiry) + optional + opt_cd)
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return line1 + "\n" + line2 + check_digit(composite)


def td1(
    *,
    doc_type: str = "I<",
    state: str = "UTO",
    number: str = "D23145890",
    optional: str = "",
    birth: str = "740812",
    sex: str = "F",
    expiry: str = "120415",
    nationality: str = "UTO",
    optional_2: str = "",
    names: str = "ERIKSSON<<ANNA<MARIA",
) -> str:
    if len(number) > 9:  # ICAO 9303-5 long number: '<' then the rest + its check digit in optional data
        head = number[:9] + "<" + number[9:] + check_digit(number) + optional
    else:
        head = number.ljust(9, "<") + check_digit(number.ljust(9, "<")) + optional
    line1 = (doc_type + state + head).ljust(30, "<")
    line2 = (birth + check_digit(birth) + sex + expiry + check_digit(expiry) + nationality
             + optional_2.ljust(11, "<"))
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line3 = names.ljust(30, "<")[:30]
    return line1 + "\n" + line2 + check_digit(composite) + "\n" + line3


def replace_char(mrz: str, line: int, pos: int, char: str) -> str:
    lines = mrz.split("\n")
    lines[line] = lines[line][:pos] + char + lines[line][pos + 1:]
    return "\n".join(lines)


def bump_digit(mrz: str, line: int, pos: int) -> str:
    """Change one check digit to a different digit (the single-misread case)."""
    current = mrz.split("\n")[line][pos]
    return replace_char(mrz, line, pos, str((int(current) + 1) % 10) if current.isdigit() else "0")
