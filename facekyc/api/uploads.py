"""Upload intake: size limits (413) and content types (415) checked before any decoding or writing."""

from __future__ import annotations

from fastapi import UploadFile

from facekyc.api.sniff import declared_or_sniffed_type
from facekyc.errors import FaceKycError

IMAGE_TYPES = frozenset({"image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/webp", "image/jp2",
                         "image/jpx", "image/jpm"})


class TooLarge(FaceKycError):
    code = "upload_too_large"
    status = 413


class UnsupportedType(FaceKycError):
    code = "unsupported_media_type"
    status = 415


def read_upload(upload: UploadFile, field: str, limit: int, allowed: frozenset[str]) -> bytes:
    """The file's bytes, or 415 for a type not in `allowed`, 413 beyond `limit` bytes."""
    content_type = declared_or_sniffed_type(upload)  # curl labels `-F video=@cap.webm` application/octet-stream
    if content_type not in allowed:
        raise UnsupportedType(f"{field}: content type {content_type or 'missing'} is not accepted; use "
                              f"{', '.join(sorted(allowed))}", field=field)
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{field}: larger than {limit} bytes", field=field)
    return data
