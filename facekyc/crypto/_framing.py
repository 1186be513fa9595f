"""Unambiguous byte framing for AEAD associated data, so ("ab", "c") never equals ("a", "bc")."""

from __future__ import annotations

import struct


def frame(*parts: bytes) -> bytes:
    """Concatenate parts, each preceded by its 4-byte big-endian length."""
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)
