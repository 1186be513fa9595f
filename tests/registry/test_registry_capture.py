"""Challenges: random 2-3 distinct steps from the secrets RNG; numbers and ICCIDs validated."""

from __future__ import annotations

import pytest

from facekyc.registry.capture import parse_fixed_challenge, random_challenge
from facekyc.registry.errors import IccidInvalid, NumberInvalid
from facekyc.registry.numbers import normalise_msisdn, validate_iccid
from facekyc.vision.liveness.types import Challenge


def test_random_challenges_vary_and_are_well_formed() -> None:
    seen = set()
    for _ in range(300):
        steps = random_challenge()
        assert 2 <= len(steps) <= 3 and len(set(steps)) == len(steps)
        seen.add(tuple(steps))
    assert len(seen) > 50
    assert {s for combo in seen for s in combo} == set(Challenge)


def test_fixed_challenge_parsing() -> None:
    assert parse_fixed_challenge("turn_left, blink") == [Challenge.TURN_LEFT, Challenge.BLINK]
    with pytest.raises(ValueError):
        parse_fixed_challenge("turn_left,dance")


def test_msisdn_and_iccid_validation() -> None:
    assert normalise_msisdn("139 1234 5678", "CN") == "+8613912345678"
    assert normalise_msisdn("+44 7911 123456", "CN") == "+447911123456"
    for bad in ("12", "+86 10 1234 5678", "not a number"):
        with pytest.raises(NumberInvalid):
            normalise_msisdn(bad, "CN")
    assert validate_iccid("8986 0012 3456 7890 1238") == "89860012345678901238"
    for bad in ("89860012345678901239", "1234567890123456789", "8986"):
        with pytest.raises(IccidInvalid):
            validate_iccid(bad)
