"""The media type of an upload labelled only `application/octet-stream` (curl's label for `-F f=@cap.webm`),
read from the file's first bytes; a declared specific type is always kept as sent."""

from __future__ import annotations

from fastapi import UploadFile

GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
HEAD_BYTES = 16


def sniff(head: bytes) -> str | None:
    """The container named by the magic bytes at the start of a file, or None if not one we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        return "image/jp2"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM (Matroska)
        return "video/webm"
    if head[4:8] == b"ftyp":  # ISO base media file: MP4, MOV
        return "video/mp4"
    return None


def declared_or_sniffed_type(upload: UploadFile) -> str:
    """The upload's bare media type; when it is generic, the type its first bytes show (or the generic one)."""
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared not in GENERIC_TYPES:
        return declared
    position = upload.file.tell()
    upload.file.seek(0)
    head = upload.file.read(HEAD_BYTES)
    upload.file.seek(position)
    return sniff(head) or declared
