"""Blind index: deterministic, keyed, domain-separated, canonicalising."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from stdnum.cn import ric

from facekyc.crypto import BlindIndexer, LocalKeyring, canonical
from facekyc.documents import identity_key, parse_document


def ric_with_x() -> str:
    for seq in range(1000):
        body = f"11010119850611{seq:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number.endswith("X"):
            return number
    raise AssertionError("no X check digit in range")


def test_deterministic_and_keyed() -> None:
    key = os.urandom(32)
    a = BlindIndexer(key).index("CHN:id_card:123")
    assert a == BlindIndexer(key).index("CHN:id_card:123")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != BlindIndexer(os.urandom(32)).index("CHN:id_card:123")
    assert a != BlindIndexer(key).index("CHN:id_card:124")
    assert a != BlindIndexer(key).index("CHN:id_card:123", purpose="phone")


def test_canonicalises_identity_keys() -> None:
    number = ric_with_x()
    indexer = BlindIndexer(os.urandom(32))
    typed = [number, number.lower(), f"{number[:6]} {number[6:14]} {number[14:]}".lower()]
    indexes = {indexer.index(identity_key(parse_document("cn_ric", value))) for value in typed}
    assert len(indexes) == 1
    assert canonical(" chn:id_card:1101 01x ") == "CHN:ID_CARD:110101X"
    assert indexer.index("chn:id_card:1101 01x") == indexer.index("CHN:ID_CARD:110101X")


def test_index_key_from_ring_is_stable_across_rotation(tmp_path: Path) -> None:
    ring = LocalKeyring.load_or_create(tmp_path / "keyring.json")
    before = BlindIndexer(ring.index_key()).index("UTO:passport:L898902C3")
    ring.add_key()
    ring.retire_key(ring.key_ids[0])
    assert BlindIndexer(ring.index_key()).index("UTO:passport:L898902C3") == before
    other = LocalKeyring.load_or_create(tmp_path / "other.json")
    assert BlindIndexer(other.index_key()).index("UTO:passport:L898902C3") != before


def test_short_key_refused_and_repr_hides_key() -> None:
    with pytest.raises(ValueError):
        BlindIndexer(b"k" * 16)
    key = os.urandom(32)
    assert key.hex() not in repr(BlindIndexer(key))
