"""One app-wide dependency refusing NUL characters in any text input (path, query, form field, JSON).

PostgreSQL cannot store or even compare text containing NUL: a capture id `a\\x00b` made a lookup
raise DataError, a 500 (found by the hostile-input suite). No legitimate field contains one."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from facekyc.errors import InputError

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class NulInText(InputError):
    code = "invalid_text"


async def reject_nul(request: Request) -> None:
    """422 invalid_text naming the first field that holds a NUL character."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        _check(name, str(value))
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in FORM_TYPES:
        for name, item in (await request.form()).multi_items():  # parsed once: FastAPI reuses it
            if not isinstance(item, UploadFile):
                _check(name, item)
    elif content_type == "application/json":
        body = await request.body()
        if b"\\u0000" in body.lower():  # the only way JSON text can carry NUL
            raise NulInText("text fields must not contain NUL characters", field="body")


def _check(name: str, value: str) -> None:
    if "\x00" in value:
        raise NulInText(f"{name}: text must not contain NUL characters", field=name)
