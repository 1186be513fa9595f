"""Typed errors with stable codes, shared by every layer and mapped to RFC 9457 by the API."""

from __future__ import annotations


class FaceKycError(Exception):
    """Base error: a stable machine code, a human message and the HTTP status it maps to."""

    code: str = "internal_error"
    status: int = 500

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.field = field

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InputError(FaceKycError):
    """The caller sent something we cannot use (4xx)."""

    code = "invalid_input"
    status = 422


class ImageError(InputError):
    """An image could not be used: unreadable, too large, no face, several faces."""

    code = "image_unreadable"


class ImageUnreadable(ImageError):
    code = "image_unreadable"


class ImageTooLarge(ImageError):
    code = "image_too_large"
    status = 413


class NoFace(ImageError):
    code = "no_face"


class MultipleFaces(ImageError):
    code = "multiple_faces"


class FaceTooSmall(ImageError):
    code = "face_too_small"


class ModelUnavailable(FaceKycError):
    """A model file is missing or failed to load (server-side problem)."""

    code = "model_unavailable"
    status = 503


class DocumentInvalid(InputError):
    """An identity document number or MRZ failed validation; `field` names what is wrong."""

    code = "document_invalid"


class DecryptionFailed(FaceKycError):
    """A ciphertext or wrapped key did not authenticate: wrong key, wrong row, tampered or truncated."""

    code = "decryption_failed"
    status = 500


class KeyringError(FaceKycError):
    """The master key ring cannot be loaded, saved or changed as asked (server-side problem)."""

    code = "keyring_error"
    status = 500


class KeyNotFound(KeyringError):
    """A wrapped key names a master key id the ring does not hold (retired, or another ring)."""

    code = "key_not_found"


class KeyInUse(KeyringError):
    """Refused to retire a master key that is still current."""

    code = "key_in_use"


class VideoError(InputError):
    """An uploaded capture video cannot be used: wrong type, unreadable, too large or too long."""

    code = "video_unreadable"


class VideoUnreadable(VideoError):
    code = "video_unreadable"


class VideoTooLarge(VideoError):
    code = "video_too_large"
    status = 413


class VideoTooLong(VideoError):
    code = "video_too_long"


class UnsupportedMediaType(VideoError):
    code = "unsupported_media_type"
    status = 415
