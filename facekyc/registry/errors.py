"""Registry errors: typed, with stable codes and the HTTP status the API maps them to."""

from __future__ import annotations

from facekyc.errors import FaceKycError, InputError


class NotFound(FaceKycError):
    code = "not_found"
    status = 404


class Conflict(FaceKycError):
    code = "conflict"
    status = 409


class Gone(FaceKycError):
    code = "gone"
    status = 410


class Forbidden(FaceKycError):
    code = "forbidden"
    status = 403


class NumberInvalid(InputError):
    """An MSISDN that is not a valid number of the operator's country."""

    code = "msisdn_invalid"


class IccidInvalid(InputError):
    """An ICCID of the wrong shape or with a bad Luhn check digit."""

    code = "iccid_invalid"
