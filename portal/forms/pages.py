"""The public side of request forms: the hosted page ``/f/{slug}``, the iframe page
``/f/{slug}/embed``, ``/embed.js``, and the knowledge-base suggestions shown while typing.

The pages carry no session and no cookie CSRF token (a cross-site iframe gets neither): their
posts are exempt from the CSRF middleware and protected by the signed form token, the
honeypot and the limits instead (see :mod:`portal.forms.intake`). The iframe page may be
framed only by the form's allowed origins (``frame-ancestors``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.auth import PUBLIC
from portal.clock import now
from portal.forms import altcha, intake, service, tokens
from portal.forms.service import FormView
from portal.i18n import LOCALES, _, set_locale
from portal.kb import search
from portal.kb import service as kb
from portal.security import DEFAULT_CSP
from portal.settings import ROOT
from portal.web import ctx, render, services

PAGE = {"opt": PUBLIC, "include_in_schema": False}
# The signed token replaces the cookie CSRF token here (see the module docstring).
TOKEN_POST = {"opt": {**PUBLIC, "exclude_from_csrf": True}, "include_in_schema": False}
NO_STORE = {"Cache-Control": "no-store"}
THEME = re.compile(r"^#[0-9a-fA-F]{3,8}\Z")
EMBED_JS = ROOT / "static" / "embed.js"
ANSWERED_LIMIT = 30  # "this answered my question" clicks per client address per hour


def frame_policy(form: FormView) -> str:
    """The page's CSP with ``frame-ancestors`` listing exactly the form's allowed origins."""
    ancestors = " ".join(form.origins) if form.origins else "'none'"
    return DEFAULT_CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")


def own_origin(request: Request) -> str:
    """The portal's own origin (``scheme://host[:port]`` of the base URL)."""
    base = services(request).settings.base_url.rstrip("/")
    return "/".join(base.split("/")[:3]).lower()


def foreign_post(request: Request) -> bool:
    """A post whose ``Origin`` is another site's: the pages' forms (the iframe's too) post from
    the portal's own origin, so anything else is a cross-site post (403)."""
    origin = request.headers.get("origin")
    return origin is not None and origin.lower() != own_origin(request)


async def _form(slug: str) -> FormView:
    form = await service.active_form(slug)
    if form is None:
        raise NotFoundException()
    return form


def _lang(request: Request, value: Any = None) -> str:
    lang = str(value or "")
    if lang in LOCALES:
        set_locale(lang)
        ctx(request).locale = lang
        return lang
    return ctx(request).locale


async def read_post(request: Request) -> tuple[dict[str, Any], dict[str, list[UploadFile]]]:
    """A posted form (url-encoded or multipart) as values (lists where repeated) and files."""
    data = await request.form()
    raw: dict[str, Any] = {}
    uploads: dict[str, list[UploadFile]] = {}
    for key in data:
        items = data.getall(key)
        files = [i for i in items if isinstance(i, UploadFile)]
        if files:
            uploads[key] = files
            continue
        raw[key] = items if len(items) > 1 else items[0]
    return raw, uploads


def _context(request: Request, form: FormView, *, lang: str, embed: bool, values: dict[str, Any] | None = None,
             errors: dict[str, str] | None = None, token: str | None = None, page_url: str = "",
             parent_origin: str = "", theme: str = "", notice: str = "") -> dict[str, Any]:
    settings = services(request).settings
    token = token or tokens.issue(settings.secret_key, form.id, now=now())
    read = tokens.read(settings.secret_key, token) if form.altcha else None
    return {
        "form": form, "lang": lang, "embed": embed, "values": values or {}, "errors": errors or {},
        "altcha": json.dumps(altcha.challenge(settings.secret_key, read.nonce, now=now())) if read else "",
        "token": token, "page_url": page_url,
        "parent_origin": parent_origin, "theme": theme, "notice": notice,
        "action": f"/f/{form.slug}/embed" if embed else f"/f/{form.slug}",
        "suggest": bool(form.field("subject") or form.field("message")),
    }


def _prefill(form: FormView, query: dict[str, Any]) -> dict[str, Any]:
    return {f.key: str(query[f.key])[:500] for f in form.fields if f.key in query and f.type != "file"}


def _headers(form: FormView, embed: bool) -> dict[str, str]:
    headers = dict(NO_STORE)
    if embed:
        headers["Content-Security-Policy"] = frame_policy(form)
    return headers


async def _page(request: Request, slug: str, *, embed: bool) -> Template:
    form = await _form(slug)
    query = dict(request.query_params)
    lang = _lang(request, query.get("lang"))
    origin = str(query.get("origin") or "")
    parent = origin if embed and service.origin_allowed(form.origins, origin) else ""
    theme = str(query.get("theme") or "")
    context = _context(request, form, lang=lang, embed=embed, values=_prefill(form, query),
                       page_url=intake.clean_page_url(query.get("page_url")), parent_origin=parent,
                       theme=theme if THEME.match(theme) else "")
    return render(request, "forms/embed.html" if embed else "forms/page.html", headers=_headers(form, embed),
                  **context)


@get("/f/{slug:str}", **PAGE)
async def form_page(request: Request, slug: str) -> Template:
    return await _page(request, slug, embed=False)


@get("/f/{slug:str}/embed", **PAGE)
async def form_embed(request: Request, slug: str) -> Template:
    return await _page(request, slug, embed=True)


async def _post(request: Request, slug: str, *, embed: bool) -> Template | Response:
    form = await _form(slug)
    if foreign_post(request):
        return Response("", status_code=403, headers=NO_STORE)
    raw, uploads = await read_post(request)
    lang = _lang(request, raw.get("lang"))
    page_url = intake.clean_page_url(raw.get("page_url"))
    parent = str(raw.get("origin") or "")
    parent = parent if embed and service.origin_allowed(form.origins, parent) else ""
    theme = str(raw.get("theme") or "")
    theme = theme if THEME.match(theme) else ""
    template = "forms/embed.html" if embed else "forms/page.html"
    headers = _headers(form, embed)
    outcome = await intake.receive(request, form, raw, uploads, lang=lang, page_url=page_url, now=now())
    common = {"page_url": page_url, "parent_origin": parent, "theme": theme}
    if outcome.kind in ("ok", "reused"):
        return render(request, template, block="form_area", headers=headers, status=201 if outcome.created else 200,
                      done=True, ref=outcome.ref, **_context(request, form, lang=lang, embed=embed, **common))
    if outcome.kind == "limited":
        headers["Retry-After"] = str(outcome.retry_after)
        notice, status, token = _("Too many requests from here. Please try again later."), 429, None
    elif outcome.kind == "bad_token":
        notice, status, token = _("This form has expired. Please check your entries and send it again."), 400, None
    else:
        notice, status, token = _("Please correct the marked fields."), 422, str(raw.get("token") or "")
    values = {k: v for k, v in raw.items() if k not in ("token", "website")}
    return render(request, template, block="form_area", headers=headers, status=status, done=False,
                  **_context(request, form, lang=lang, embed=embed, values=values, errors=outcome.errors,
                             token=token, notice=notice, **common))


@post("/f/{slug:str}", **TOKEN_POST)
async def form_post(request: Request, slug: str) -> Template | Response:
    return await _post(request, slug, embed=False)


@post("/f/{slug:str}/embed", **TOKEN_POST)
async def form_embed_post(request: Request, slug: str) -> Template | Response:
    return await _post(request, slug, embed=True)


# --- suggestions while typing --------------------------------------------------------------------

@get("/f/{slug:str}/suggest", **PAGE)
async def form_suggest(request: Request, slug: str, subject: str = "", message: str = "", lang: str = "",
                       token: str = "") -> Template:
    """Up to three articles, in the form's language, for what the visitor is typing."""
    form = await _form(slug)
    lang = _lang(request, lang)
    text = f"{subject[:200]} {message[:300]}".strip()
    query = search.parse(text + " ", lang)
    rows = await search.search(query, kb.audience(customer=False, staff=False), now=now(), limit=3) if query else []
    return Template(template_name="kb/_suggestion_list.html", headers=NO_STORE, context={
        "suggestions": search.highlighted(rows, query) if query else [], "locale": lang,
        "answered_url": f"/f/{form.slug}/answered", "answered_vals": {"token": token, "lang": lang}})


@post("/f/{slug:str}/answered", **TOKEN_POST)
async def form_answered(request: Request, slug: str) -> Response | Template:
    """"This answered my question": counted once per visitor (form token) and article."""
    form = await _form(slug)
    if foreign_post(request):
        return Response("", status_code=403, headers=NO_STORE)
    settings = services(request).settings
    client = service.client_hash(settings.secret_key, intake.client_address(request))
    verdict = await services(request).throttle.hit(f"form:answered:{client}", ANSWERED_LIMIT, intake.HOUR)
    if not verdict.allowed:
        return Response("", status_code=429, headers={**NO_STORE, "Retry-After": str(verdict.retry_after)})
    raw, _uploads = await read_post(request)
    lang = _lang(request, raw.get("lang"))
    try:
        article_id = int(str(raw.get("article", "")))
        if not 0 < article_id <= service.INT4_MAX:
            raise ValueError(article_id)
        token = tokens.check(settings.secret_key, str(raw.get("token") or ""), form.id, now=now())
    except ValueError:
        return Response("", status_code=400)
    except tokens.TokenRefused as exc:
        if exc.code != "too_fast" or exc.token is None:
            return Response("", status_code=400)
        token = exc.token  # reading an article can take under three seconds
    await service.record_deflection(form.id, article_id, nonce=token.nonce, lang=lang, now=now())
    return Template(template_name="kb/_suggestion_answered.html", context={"locale": lang}, headers=NO_STORE)


# --- the script website owners paste ------------------------------------------------------------

_SCRIPT: dict[str, bytes] = {}


@get("/embed.js", opt=PUBLIC, include_in_schema=False, media_type="text/javascript")
async def embed_js() -> Response:
    if "body" not in _SCRIPT:
        _SCRIPT["body"] = EMBED_JS.read_bytes()
    return Response(_SCRIPT["body"], media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600",
                             "Cross-Origin-Resource-Policy": "cross-origin"})


ROUTES = [form_page, form_embed, form_post, form_embed_post, form_suggest, form_answered, embed_js]
