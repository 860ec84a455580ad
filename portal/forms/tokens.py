"""The signed form token: what protects a form that lives inside another site's page.

A cross-site iframe gets no ``SameSite=Lax`` cookies, so neither the session nor the cookie
CSRF token can protect the embedded form. Instead ``GET /api/v1/forms/{slug}`` and the form
pages hand out a token signed with the secret key (itsdangerous), bound to the form's id,
carrying a random nonce and the time it was issued. A post must bring it back, not sooner than
:data:`MIN_SECONDS` (people read and type; bots post at once) and not later than
:data:`MAX_AGE`; the nonce is stored with the submission, so a token is used once (a replay or
a double click finds the first submission).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer

MIN_SECONDS = 3
MAX_AGE = 24 * 3600
SALT = "portal.forms.token"


@dataclass(frozen=True)
class Token:
    form_id: int
    nonce: str
    issued_at: int  # seconds since the epoch


class TokenRefused(Exception):
    """``code``: ``bad`` (forged, for another form, expired) or ``too_fast``."""

    def __init__(self, code: str, token: Token | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.token = token


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def issue(secret: str, form_id: int, *, now: datetime) -> str:
    return _serializer(secret).dumps({"f": form_id, "n": secrets.token_urlsafe(12), "t": int(now.timestamp())})


def read(secret: str, raw: str) -> Token | None:
    """The token's content if the signature is ours (no time checks: for re-rendering a form)."""
    try:
        data = _serializer(secret).loads(raw or "")
        return Token(form_id=int(data["f"]), nonce=str(data["n"])[:40], issued_at=int(data["t"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def check(secret: str, raw: str, form_id: int, *, now: datetime) -> Token:
    """The token, or :class:`TokenRefused`."""
    try:
        data = _serializer(secret).loads(raw or "")
        token = Token(form_id=int(data["f"]), nonce=str(data["n"])[:40], issued_at=int(data["t"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise TokenRefused("bad") from None
    age = now.timestamp() - token.issued_at
    if token.form_id != form_id or age > MAX_AGE or age < -60:
        raise TokenRefused("bad", token)
    if age < MIN_SECONDS:
        raise TokenRefused("too_fast", token)
    return token
