"""Optional proof of work for a form (ALTCHA, self-hosted): before a post is taken, the
visitor's browser must find the number behind a SHA-256 challenge, about a second of work for
a person and a real cost for a bot sending thousands.

The challenge is made with the ``altcha`` library (its v1 format: the number ``n`` with
``sha256(salt + n) == challenge``, the challenge signed with a key derived from the secret),
bound to the form token's nonce (``t`` in the salt) and valid for an hour. Since a token is
used once, so is its proof. Our own ``static/request-form.js`` solves it with Web Crypto; no
third-party widget is loaded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import altcha

MAX_NUMBER = 50_000  # the browser tries 25,000 hashes on average
TTL = timedelta(hours=1)
TEXT_KEYS = ("algorithm", "challenge", "salt", "signature")


def _key(secret: str) -> str:
    return hmac.new(secret.encode(), b"portal.forms.altcha", hashlib.sha256).hexdigest()


def challenge(secret: str, nonce: str, *, now: datetime) -> dict[str, Any]:
    made = altcha.create_challenge_v1(hmac_key=_key(secret), max_number=MAX_NUMBER, expires=now + TTL,
                                      params={"t": nonce})
    return {"algorithm": made.algorithm, "challenge": made.challenge, "maxnumber": made.max_number,
            "salt": made.salt, "signature": made.signature}


def verify(secret: str, payload: str, nonce: str) -> bool:
    """A solved challenge (base64 JSON, as the browser sends it) for this token's nonce."""
    if not payload or len(payload) > 2000:
        return False
    try:
        data = json.loads(base64.b64decode(payload, validate=True))
    except (ValueError, TypeError):
        return False
    # The library assumes the shape (``salt.split`` on an int raised AttributeError): check it first.
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in TEXT_KEYS) \
            or not isinstance(data.get("number"), int) or isinstance(data.get("number"), bool):
        return False
    try:
        ok, _error = altcha.verify_solution_v1(payload, _key(secret), check_expires=True)
        if not ok:
            return False
        params = altcha.v1.extract_params(data)
    except Exception:  # anything the library trips on is "not verified", never a 500
        return False
    return params.get("t") == [nonce]
