"""``GET /api/v1/forms/{slug}`` and ``POST /api/v1/forms/{slug}/submissions``: public, no API
token (SPEC §7), with CORS for the form's allowed origins only.

A browser on an allowed origin gets ``Access-Control-Allow-Origin`` with its own origin (and
its preflight ``OPTIONS`` answered); a post from any other origin is refused and creates
nothing. Posts carry the signed token from the GET and are taken in exactly like the pages'
(:mod:`portal.forms.intake`). Errors are ``{"error": {"code", "message", "fields"}}`` in the
visitor's language (``lang`` in the body or query, else ``Accept-Language``).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post, route
from litestar.datastructures import UploadFile

from portal.api import ApiError
from portal.auth import PUBLIC
from portal.clock import now
from portal.forms import altcha, intake, service, tokens
from portal.forms.fields import TYPE_NAMES
from portal.forms.pages import _lang, read_post
from portal.forms.service import FormView
from portal.i18n import _
from portal.web import json_error, services

TOKEN_POST = {**PUBLIC, "exclude_from_csrf": True}
EXTRA_KEYS = {"token", "website", "lang", "page_url", "consent", "altcha"}


def _cors(request: Request, form: FormView | None, methods: str) -> dict[str, str]:
    origin = request.headers.get("origin")
    headers = {"Vary": "Origin", "Cache-Control": "no-store"}
    if origin and form is not None and service.origin_allowed(form.origins, origin):
        headers.update({"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": methods,
                        "Access-Control-Allow-Headers": "content-type", "Access-Control-Max-Age": "600"})
    return headers


def _own_origin(request: Request) -> str:
    base = services(request).settings.base_url.rstrip("/")
    return "/".join(base.split("/")[:3])


def _origin_refused(request: Request, form: FormView) -> bool:
    origin = request.headers.get("origin")
    return bool(origin) and origin != _own_origin(request) and not service.origin_allowed(form.origins, origin)


def _error(status: int, code: str, message: str, headers: dict[str, str],
           fields: dict[str, str] | None = None) -> Response:
    return json_error(status, code, message, fields, headers=headers)


def describe(form: FormView, lang: str, token: str) -> dict[str, Any]:
    fields = []
    for f in form.fields:
        item: dict[str, Any] = {"key": f.key, "type": f.type, "type_name": _(TYPE_NAMES[f.type]),
                                "label": f.text("label", lang), "help": f.text("help", lang), "required": f.required}
        if f.options:
            item["options"] = [{"value": o.value, "label": o.label.get(lang) or o.value} for o in f.options]
        for rule in ("min_length", "max_length", "pattern", "min", "max"):
            if getattr(f, rule) is not None:
                item[rule] = getattr(f, rule)
        fields.append(item)
    body: dict[str, Any] = {"slug": form.slug, "name": form.title(lang), "lang": lang, "version": form.version,
                            "fields": fields, "token": token, "min_seconds": tokens.MIN_SECONDS,
                            "submit_url": f"/api/v1/forms/{form.slug}/submissions"}
    if form.consent_enabled:
        body["consent"] = {"text": form.consent_text(lang), "version": form.consent_version}
    return body


def with_altcha(body: dict[str, Any], form: FormView, secret: str, token: str) -> dict[str, Any]:
    """A form with proof of work: the ALTCHA challenge for this token (solve it, send the
    base64 JSON payload as ``altcha``)."""
    read = tokens.read(secret, token)
    if form.altcha and read is not None:
        body["altcha"] = altcha.challenge(secret, read.nonce, now=now())
    return body


@get("/api/v1/forms/{slug:str}", opt=PUBLIC, summary="A request form: fields and a signed token")
async def api_form(request: Request, slug: str, lang: str = "") -> Response:
    form = await service.active_form(slug)
    headers = _cors(request, form, "GET, OPTIONS")
    lang = _lang(request, lang)
    if form is None:
        return _error(404, "not_found", _("There is no such form."), headers)
    secret = services(request).settings.secret_key
    token = tokens.issue(secret, form.id, now=now())
    return Response(with_altcha(describe(form, lang, token), form, secret, token), headers=headers,
                    media_type="application/json")


@route("/api/v1/forms/{slug:str}", http_method=["OPTIONS"], opt=PUBLIC, include_in_schema=False)
async def api_form_preflight(request: Request, slug: str) -> Response:
    return await _preflight(request, slug, "GET, OPTIONS")


@route("/api/v1/forms/{slug:str}/submissions", http_method=["OPTIONS"], opt=TOKEN_POST, include_in_schema=False)
async def api_submit_preflight(request: Request, slug: str) -> Response:
    return await _preflight(request, slug, "POST, OPTIONS")


async def _preflight(request: Request, slug: str, methods: str) -> Response:
    form = await service.active_form(slug)
    headers = _cors(request, form, methods)
    if "Access-Control-Allow-Origin" not in headers:
        return _error(403, "origin_not_allowed", _("This form cannot be used from this site."), headers)
    return Response(None, status_code=204, headers=headers)


async def _body(request: Request) -> tuple[dict[str, Any], dict[str, list[UploadFile]]]:
    content_type = request.content_type[0]
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return await read_post(request)
    if content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", _("Send the body as application/json."))
    try:
        data = msgspec.json.decode(await request.body())
    except (msgspec.DecodeError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise ApiError(400, "bad_json", _("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiError(422, "validation_error", _("Send the fields as one JSON object."))
    return data, {}


@post("/api/v1/forms/{slug:str}/submissions", opt=TOKEN_POST, status_code=201,
      summary="Submit a request form (public; the token from GET /api/v1/forms/{slug})")
async def api_submit(request: Request, slug: str) -> Response:
    form = await service.active_form(slug)
    headers = _cors(request, form, "POST, OPTIONS")
    if form is None:
        _lang(request, request.query_params.get("lang"))
        return _error(404, "not_found", _("There is no such form."), headers)
    if _origin_refused(request, form):
        return _error(403, "origin_not_allowed", _("This form cannot be used from this site."), headers)
    try:
        raw, uploads = await _body(request)
    except ApiError as exc:
        return _error(exc.status, exc.code, exc.message, headers, exc.fields)
    lang = _lang(request, raw.get("lang") or request.query_params.get("lang"))
    known = {f.key for f in form.fields} | EXTRA_KEYS
    unknown = sorted(k for k in [*raw, *uploads] if k not in known)
    if unknown:
        return _error(422, "validation_error", _("Unknown field."), headers,
                      {k: _("This field is not allowed.") for k in unknown})
    outcome = await intake.receive(request, form, raw, uploads, lang=lang,
                                   page_url=intake.clean_page_url(raw.get("page_url")), now=now(), api=True)
    if outcome.kind == "too_fast":
        headers["Retry-After"] = str(outcome.retry_after)
        return _error(425, "too_fast", _("This form was sent too soon after it was loaded. Please wait a moment "
                                         "and send it again."), headers)
    if outcome.kind == "limited":
        headers["Retry-After"] = str(outcome.retry_after)
        return _error(429, "rate_limited", _("Too many requests from here. Please try again later."), headers)
    if outcome.kind == "bad_token":
        return _error(400, "bad_token", _("This form has expired. Please reload it and send it again."), headers,
                      {"token": _("Get a new token from the form and send again.")})
    if outcome.kind == "invalid":
        return _error(422, "validation_error", _("Please correct the marked fields."), headers, outcome.errors)
    if outcome.kind == "reused":
        return _error(409, "token_used", _("This form was already sent. Reload it to send another request."),
                      headers, {"token": _("Get a new token from the form and send again.")})
    body = {"reference": outcome.ref, "message": form.success_message(lang) or _("Thank you. We have your request.")}
    return Response(body, status_code=201 if outcome.created else 200, headers=headers,
                    media_type="application/json")


ROUTES = [api_form_preflight, api_submit_preflight, api_form, api_submit]
