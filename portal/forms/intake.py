"""Taking in a post of a request form, the same way for the pages and the JSON API.

The order matters: the limits first (a flood costs one counter each), then the honeypot and
the token (bots get a decoy that looks like success and creates nothing), then the fields (one
message per field, in the visitor's language), then the ticket. Nothing here knows whether the
answer is HTML or JSON; the caller turns the :class:`Outcome` into a page or a body.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from portal.forms import altcha, service, tokens
from portal.forms.fields import Field, validate
from portal.forms.service import FormView
from portal.i18n import _
from portal.tickets import files as attachments
from portal.web import services

HONEYPOT = "website"
HOUR, MINUTE, DAY = 3600, 60, 86400
# Confirmation mails one e-mail address may be sent through forms a day: a form is not a way
# to make the help desk mail a stranger over and over.
PER_RECIPIENT_LIMIT = 5


@dataclass
class Outcome:
    kind: str  # ok, invalid, bad_token, limited, reused, too_fast (the JSON API only)
    ref: str = ""
    created: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    retry_after: int = 0


def client_address(request: Request) -> str:
    """The client's address for limits: an IPv6 client by its /64 (one subscriber usually
    holds a whole /64 and could otherwise change address per request)."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return host


def storage(request: Request) -> attachments.Storage:
    return attachments.Storage(services(request).settings.var_dir / "attachments")


async def _limited(request: Request, form: FormView, client: str) -> int:
    throttle = services(request).throttle
    for key, limit, window in ((f"form:ip:{form.id}:{client}", form.per_address_limit, HOUR),
                               (f"form:all:{form.id}", form.per_form_limit, MINUTE)):
        verdict = await throttle.hit(key, limit, window)
        if not verdict.allowed:
            return verdict.retry_after
    return 0


async def _files(fields: list[Field], uploads: dict[str, list[UploadFile]],
                 errors: dict[str, str]) -> tuple[list[attachments.Checked], dict[str, int], dict[str, list[str]]]:
    from portal.customer.conversation import attachment_error

    checked: list[attachments.Checked] = []
    counts: dict[str, int] = {}
    names: dict[str, list[str]] = {}
    for f in fields:
        if f.type != "file":
            continue
        items = [attachments.Upload(u.filename, await u.read(attachments.MAX_BYTES + 1))
                 for u in uploads.get(f.key, []) if isinstance(u, UploadFile) and u.filename]
        try:
            ok = attachments.check_all(items)
        except attachments.AttachmentRefused as exc:
            errors[f.key] = attachment_error(exc)
            continue
        counts[f.key] = len(ok)
        names[f.key] = [c.filename for c in ok]
        checked.extend(ok)
    if len(checked) > attachments.MAX_FILES:
        first = next(f.key for f in fields if f.type == "file")
        errors[first] = _("Please attach at most %(n)s files.", n=attachments.MAX_FILES)
    return checked, counts, names


async def receive(request: Request, form: FormView, raw: dict[str, Any], uploads: dict[str, list[UploadFile]],
                  *, lang: str, page_url: str, now: datetime, api: bool = False) -> Outcome:
    """``api``: a JSON API client posting too soon is told so (``too_fast``); the pages keep
    answering bots with the decoy."""
    settings = services(request).settings
    client = service.client_hash(settings.secret_key, client_address(request))
    retry = await _limited(request, form, client)
    if retry:
        return Outcome("limited", retry_after=retry)
    raw_token = str(raw.get("token") or "")
    try:
        token = tokens.check(settings.secret_key, raw_token, form.id, now=now)
    except tokens.TokenRefused as exc:
        if exc.code == "too_fast" and not str(raw.get(HONEYPOT) or "").strip():
            if api and exc.token is not None:
                wait = exc.token.issued_at + tokens.MIN_SECONDS - now.timestamp()
                return Outcome("too_fast", retry_after=max(1, math.ceil(wait)))
            return _decoy(exc.token.nonce if exc.token else raw_token)
        if exc.code == "too_fast" and exc.token is not None:
            return _decoy(exc.token.nonce)
        if str(raw.get(HONEYPOT) or ""):
            return _decoy(secrets.token_hex(8))
        return Outcome("bad_token")
    if str(raw.get(HONEYPOT) or "").strip():
        return _decoy(token.nonce)
    file_errors: dict[str, str] = {}
    checked, counts, names = await _files(form.fields, uploads, file_errors)
    values, errors = validate(form.fields, raw, counts)
    errors.update(file_errors)
    for f in form.fields:
        if f.type == "file":
            values[f.key] = names.get(f.key, [])
    consent = _truthy(raw.get("consent"))
    if form.consent_enabled and not consent:
        errors["consent"] = _("Please agree to the processing of your data to send the form.")
    if form.altcha and not altcha.verify(settings.secret_key, str(raw.get("altcha") or ""), token.nonce):
        errors["altcha"] = _("The automatic check did not finish. Please wait a moment and send again.")
    if errors:
        return Outcome("invalid", errors=errors, values=values)
    recipient = service.recipient(form, values)
    if recipient:
        verdict = await services(request).throttle.hit(f"form:to:{recipient}", PER_RECIPIENT_LIMIT, DAY)
        if not verdict.allowed:
            return Outcome("limited", retry_after=verdict.retry_after)
    submitted = await service.submit(form, values, checked, nonce=token.nonce, consent_given=consent,
                                     page_url=page_url[:500], lang=lang, client=client, now=now,
                                     storage=storage(request))
    if not submitted.same:
        return Outcome("reused", ref=submitted.ref)
    return Outcome("ok", ref=submitted.ref, created=submitted.created)


def _decoy(seed: str) -> Outcome:
    """What a bot sees: the answer of a request that was taken (201 and a reference); nothing is stored."""
    return Outcome("ok", ref=service.decoy_reference(seed), created=True)


def _truthy(raw: Any) -> bool:
    if isinstance(raw, list):
        raw = raw[-1] if raw else ""
    return raw is True or str(raw or "").strip().lower() in ("1", "on", "true", "yes")


def clean_page_url(raw: Any) -> str:
    text = str(raw or "").strip()
    return text[:500] if text.startswith(("http://", "https://")) else ""
