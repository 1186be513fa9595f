"""Hostile uploads generated at run time (nothing stored in the repository), shared by the hostile-input
tests and bench/soak.py: broken and odd image files, wrong content types and hostile text fields."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from facekyc.vision.image import encode_jpeg

UPLOAD_ENDPOINTS = ("document-photo-checks", "verifications", "registrations", "capture-frames", "capture-video")


@dataclass(frozen=True)
class Upload:
    """One file part: a name for the report, its bytes and the content type it claims."""

    name: str
    data: bytes
    content_type: str = "image/jpeg"


def png_chunk(kind: bytes, payload: bytes, *, crc: int | None = None) -> bytes:
    value = zlib.crc32(kind + payload) if crc is None else crc
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", value & 0xFFFFFFFF)


def png(width: int, height: int, *, rows: int | None = None, bad_crc: bool = False) -> bytes:
    """An 8-bit grey PNG claiming width x height; only `rows` rows of data (default all) are present."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    present = height if rows is None else rows
    raw = zlib.compress((b"\x00" + b"\x80" * width) * present)
    ihdr = png_chunk(b"IHDR", header, crc=0xDEADBEEF if bad_crc else None)
    return b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"IDAT", raw) + png_chunk(b"IEND", b"")


def faceless(width: int, height: int, value: int) -> bytes:
    return encode_jpeg(np.full((height, width, 3), value, np.uint8))


def odd_images() -> list[Upload]:
    """Faceless and degenerate but well-formed images: what crashed the server when sent at once."""
    return [Upload("black640x480", faceless(640, 480, 0)), Upload("grey400", faceless(400, 400, 128)),
            Upload("tiny1x1", png(1, 1), "image/png"), Upload("tiny40", faceless(40, 40, 30)),
            Upload("huge_side_header", png(40_000, 8, rows=1), "image/png"),
            Upload("huge_pixels_header", png(100_000, 100_000, rows=1), "image/png")]


def broken_files(face_jpeg: bytes, oversize: int) -> list[Upload]:
    """Malformed files: truncated, empty, random, polyglot, wrong CRC, wrong content type, oversize."""
    rng = np.random.default_rng(9)
    return [
        Upload("zero_bytes", b""),
        Upload("truncated_jpeg", face_jpeg[: len(face_jpeg) // 3]),
        Upload("random_bytes", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()),
        Upload("polyglot_jpeg_html_zip", face_jpeg[:200] + b"<html><script>alert(1)</script></html>"
               + b"PK\x03\x04" + bytes(26) + b"evil.php<?php system($_GET['c']); ?>"),
        Upload("wrong_crc_png", png(64, 64, bad_crc=True), "image/png"),
        Upload("text_as_jpeg", b"hello, I am not an image\n" * 20),
        Upload("jpeg_as_text", face_jpeg, "text/plain"),
        Upload("jpeg_as_exe", face_jpeg, "application/x-msdownload"),
        Upload("no_content_type", face_jpeg, ""),
        Upload("oversize", b"\xff\xd8\xff\xe0" + bytes(oversize)),
    ]


HOSTILE_TEXT = ("' OR 1=1; DROP TABLE registrations;--", "名前\u202etxt.exe", "a\x00b", "🙂" * 50,
                "x" * 5000, "\r\nX-Injected: 1", "../../etc/passwd", "[" * 10_000 + "]" * 10_000)
