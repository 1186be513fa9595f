"""Blind indexes: a keyed HMAC of a document number, so rows can be looked up and counted per
identity without the number being stored or brute-forceable from a database dump alone.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from facekyc.crypto._framing import frame

MIN_KEY_SIZE = 32
_LABEL = b"facekyc blind index v1"
_WHITESPACE = re.compile(r"\s+")


def canonical(value: str) -> str:
    """NFKC, no whitespace, upper-case, so "chn:id_card:1101 0119x" and "CHN:id_card:11010119X" agree."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", value)).upper()


class BlindIndexer:
    """HMAC-SHA256 under the ring's index key (`LocalKeyring.index_key()`), hex encoded."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_SIZE:
            raise ValueError(f"blind index key must be at least {MIN_KEY_SIZE} bytes")
        self._key = bytes(key)

    def index(self, value: str, *, purpose: str = "identity") -> str:
        """64 hex chars; `purpose` separates domains so an index of one kind never matches another."""
        message = frame(_LABEL, purpose.encode(), canonical(value).encode())
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "BlindIndexer(key=<hidden>)"
