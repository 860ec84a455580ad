"""Shared plumbing for the JSON API under ``/api/v1``.

Errors are ``{"error": {"code": "...", "message": "...", "fields": {...}}}`` with the right
4xx. Bodies are decoded with msgspec into ``Struct`` types declared with
``forbid_unknown_fields=True``: an unknown field is a 422 naming it, never silently dropped.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response

from portal.i18n import _
from portal.web import json_error

T = TypeVar("T")

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<field>[^`]+)`")
_MISSING = re.compile(r"Object missing required field `(?P<field>[^`]+)`")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


def _field_path(raw: str) -> str:
    path = raw.lstrip(".")
    return path or "body"


def validation_error(exc: msgspec.ValidationError | msgspec.DecodeError) -> ApiError:
    text = str(exc)
    at = _AT.search(text)
    base = _field_path(at.group("path")) if at else "body"
    message = text[: at.start()] if at else text
    if m := _UNKNOWN.search(message):
        field = m.group("field") if base == "body" else f"{base}.{m.group('field')}"
        return ApiError(422, "validation_error", _("Unknown field."), {field: _("This field is not allowed.")})
    if m := _MISSING.search(message):
        field = m.group("field") if base == "body" else f"{base}.{m.group('field')}"
        return ApiError(422, "validation_error", _("A required field is missing."),
                        {field: _("This field is required.")})
    if isinstance(exc, msgspec.DecodeError) and not at:
        return ApiError(400, "bad_json", _("The body is not valid JSON."))
    return ApiError(422, "validation_error", _("Some fields are not valid."), {base: message})


async def decode(request: Request, type_: type[T]) -> T:
    """Decode the request's JSON body into ``type_`` or raise a 4xx :class:`ApiError`."""
    if "json" not in request.headers.get("content-type", "application/json"):
        raise ApiError(415, "unsupported_media_type", _("Send the body as application/json."))
    body = await request.body()
    try:
        return msgspec.json.decode(body, type=type_, strict=False)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise validation_error(exc) from None


def api_error_handler(request: Request, exc: ApiError) -> Response:
    return json_error(exc.status, exc.code, exc.message, exc.fields or None)


def to_json(value: Any) -> Any:
    """Plain JSON-able data (ISO 8601 times with offset, decimals as strings)."""
    return msgspec.to_builtins(value, builtin_types=(), str_keys=True)
