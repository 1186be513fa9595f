"""Text clean-up shared by the document parsers, so every entry path canonicalises the same way."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-]+")


def compact_number(value: str) -> str:
    """NFKC-normalise (full-width digits from CJK keyboards), drop spaces and hyphens, upper-case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()


def mask(number: str) -> str:
    """A redacted form for messages and logs: never more than the last two characters."""
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 2) + number[-2:]
