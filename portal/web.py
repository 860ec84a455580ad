"""HTTP plumbing shared by every page: the request context (session, user, language),
``render()`` (whole page or one named block for htmx), form parsing and error pages.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request, Response
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.stores.base import StorageObject, Store
from litestar.stores.file import FileStore, _safe_file_name
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from portal import i18n
from portal.i18n import N_, _
from portal.security import DEFAULT_CSP, new_token, security_headers

# The body of a plain HTML form (urlencoded); handlers parse it with :class:`Form`.
FormBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

SESSION_COOKIE = "portal_session"
LANG_COOKIE = "lang"
SESSION_MAX_AGE = 14 * 24 * 3600
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class SessionFileStore(FileStore):
    """Litestar's ``FileStore`` with a synchronous ``get``.

    Every logged-in request reads one session file of about a hundred bytes, from the page
    cache. ``FileStore.get`` reads it in a worker thread (``anyio.Path.read_bytes``): a queue
    put, a thread switch and a wake-up of the event loop, several times the cost of the read
    itself. Writes stay as they are (a temporary file and an atomic ``os.replace``), so a
    read never sees half a file.
    """

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        path = os.path.join(self.path, _safe_file_name(key))  # noqa: PTH118 - plain str, no anyio wrapper
        try:
            with open(path, "rb") as f:  # noqa: ASYNC230 - a tiny file from the page cache
                raw = f.read()
        except FileNotFoundError:
            return None
        obj = StorageObject.from_bytes(raw)
        if obj.expired:
            await self.delete(key)
            return None
        if renew_for and obj.expires_at:
            await self.set(key, value=obj.data, expires_in=renew_for)
        return obj.data


class Session(dict):
    """Server-side session data; saved only when changed."""

    def __init__(self, data: Mapping[str, Any], sid: str | None) -> None:
        super().__init__(data)
        self.sid = sid
        self.modified = False
        self.rotate_requested = False

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.modified = True

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self.modified = True

    def pop(self, key: str, *default: Any) -> Any:  # type: ignore[override]
        self.modified = True
        return super().pop(key, *default)

    def clear(self) -> None:
        super().clear()
        self.modified = True

    def rotate(self) -> None:
        """Give the session a new id (at log-in), so a planted id is worth nothing."""
        self.rotate_requested = True
        self.modified = True


@dataclass
class Context:
    """What every handler and template knows about the current visitor."""

    session: Session
    customer: Any = None  # a Customer row (dict) when logged in and verified
    staff: Any = None  # a StaffUser row (dict) when a staff member is logged in
    locale: str = "tr"
    extra: dict[str, Any] = field(default_factory=dict)


def ctx(request: Request | Any) -> Context:
    return request.scope["state"]["portal"]


def services(request: Request | Any):  # -> portal.app.Services
    return request.app.state["services"]


def _cookies(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, sep, v = part.strip().partition("=")
                if sep and k not in out:
                    out[k] = v
    return out


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return v.decode("latin-1")
    return None


def _query_lang(scope: Scope) -> str | None:
    qs = scope.get("query_string", b"").decode("latin-1")
    m = re.search(r"(?:^|&)lang=(tr|en)(?:&|$)", qs)
    return m.group(1) if m else None


_ASSET_PREFIXES = ("/static/", "/assets/")


class PortalMiddleware:
    """Loads the session and the logged-in user, picks the language, saves the session."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        svc = scope["app"].state["services"]
        path: str = scope["path"]
        if path.startswith(_ASSET_PREFIXES):
            # Stylesheets and scripts: no session file, no user lookup (a page pulls several).
            scope.setdefault("state", {})["portal"] = Context(session=Session({}, None),
                                                              locale=svc.settings.default_locale)
            await self.app(scope, receive, send)
            return
        store: Store = svc.session_store
        cookies = _cookies(scope)
        sid = cookies.get(SESSION_COOKIE)
        data: dict[str, Any] = {}
        if sid and _SESSION_ID.match(sid):
            raw = await store.get(f"s:{sid}")
            if raw is not None:
                data = json.loads(raw)
            else:
                sid = None
        else:
            sid = None
        session = Session(data, sid)
        context = Context(session=session)
        scope.setdefault("state", {})["portal"] = context

        from portal.accounts import service as accounts  # domain lookups, no request objects

        is_staff_path = path == "/staff" or path.startswith("/staff/")
        if "cid" in session:
            context.customer = await accounts.customer_for_session(session.get("cid"), session.get("cv"))
            if context.customer is None:
                session.pop("cid", None)
                session.pop("cv", None)
        if "sid" in session:
            context.staff = await accounts.staff_for_session(session.get("sid"), session.get("sv"))
            if context.staff is None:
                session.pop("sid", None)
                session.pop("sv", None)

        user = context.staff if is_staff_path else context.customer
        query_lang = _query_lang(scope)
        context.locale = i18n.negotiate(
            user_pref=user["locale"] if user else None,
            query=query_lang,
            cookie=cookies.get(LANG_COOKIE),
            accept_language=_header(scope, b"accept-language"),
            default=svc.settings.default_locale,
        )
        i18n.set_locale(context.locale)
        i18n.set_timezone(svc.settings.timezone)
        secure = svc.settings.is_https

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers.setdefault("content-language", context.locale)
                headers.add("vary", "Cookie, Accept-Language, HX-Request")
                if query_lang and query_lang != cookies.get(LANG_COOKIE):
                    headers.add("set-cookie", Cookie(key=LANG_COOKIE, value=query_lang, max_age=365 * 24 * 3600,
                                                     httponly=True, secure=secure, samesite="lax").to_header(header=""))
                if session.modified:
                    await self._save(session, store, headers, secure)
            await send(message)

        await self.app(scope, receive, send_wrapper)

    @staticmethod
    async def _save(session: Session, store: Store, headers: MutableScopeHeaders, secure: bool) -> None:
        if session.sid and (session.rotate_requested or not session):
            await store.delete(f"s:{session.sid}")
            session.sid = None
        if not session:
            headers.add("set-cookie", Cookie(key=SESSION_COOKIE, value="", max_age=0, expires=0, httponly=True,
                                             secure=secure, samesite="lax").to_header(header=""))
            return
        if session.sid is None:
            session.sid = new_token(32)
        await store.set(f"s:{session.sid}", json.dumps(dict(session)), expires_in=SESSION_MAX_AGE)
        headers.add("set-cookie", Cookie(key=SESSION_COOKIE, value=session.sid, max_age=SESSION_MAX_AGE,
                                         httponly=True, secure=secure, samesite="lax").to_header(header=""))


def security_headers_hook(https: bool):
    """``before_send`` hook: security headers on every response, error pages included."""
    extra = security_headers(https=https)
    default_csp = DEFAULT_CSP.encode()

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        # Raw ASGI header pairs: one pass to see what is set, then appends (this runs on every
        # response; MutableScopeHeaders scans the whole list once per lookup).
        headers = message.get("headers")
        if not isinstance(headers, list):
            headers = message["headers"] = list(headers or [])  # type: ignore[typeddict-item]
        present: dict[bytes, bytes] = {}
        for name, value in headers:
            present.setdefault(name.lower(), value)
        policy = present.get(b"content-security-policy")
        if policy is None:
            headers.append((b"content-security-policy", default_csp))
            policy = default_csp
        framable = b"frame-ancestors" in policy and b"frame-ancestors 'none'" not in policy
        for name, value in extra:
            # A page that lists who may frame it (the embedded request form, the mail preview)
            # must not also be denied by X-Frame-Options; any other page is denied.
            if name == b"x-frame-options" and framable:
                continue
            if name not in present:
                headers.append((name, value))

    return hook


# --- rendering --------------------------------------------------------------------------------

def render(request: Request, template: str, *, block: str | None = None, status: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> Template:
    """The whole page, or for an htmx request one named block of the same template."""
    c = ctx(request)
    context.setdefault("customer", c.customer)
    context.setdefault("staff", c.staff)
    context.setdefault("locale", c.locale)
    context.setdefault("flashes", c.session.pop("flash") if "flash" in c.session else [])
    if block is not None and getattr(request, "htmx", None):
        return HTMXBlockTemplate(template_name=template, block_name=block, context=context,
                                 status_code=status, headers=headers)
    return Template(template_name=template, context=context, status_code=status, headers=headers)


def flash(request: Request, message: str, category: str = "success") -> None:
    """A message shown once, on the next page rendered for this visitor."""
    session = ctx(request).session
    session["flash"] = [*session.get("flash", []), [category, message]]


def redirect(path: str) -> Redirect:
    return Redirect(path=path, status_code=303)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only local paths: never an open redirect (``//evil``, ``/\\evil``, ``https://``)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    # Browsers drop tabs and newlines inside URLs ("/\t/evil" becomes "//evil"): refuse any
    # control character, space or backslash anywhere.
    if any(ord(c) <= 0x20 or c in "\x7f\\" for c in value):
        return default
    return value


# --- forms ------------------------------------------------------------------------------------

INT4_MAX = 2**31 - 1  # PostgreSQL ``integer``: larger ids or numbers overflow the query


def parse_int(text: str | None, *, lo: int = 0, hi: int = INT4_MAX) -> int | None:
    """A whole number from ASCII digits only, within ``lo..hi``; else None.

    ``str.isdigit()`` accepts "²" and ``int()`` accepts "--3", " 7" or "1_0"; neither may
    reach a query or become a 500."""
    text = (text or "").strip()
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not digits or len(digits) > 12 or not (digits.isascii() and digits.isdigit()):
        return None
    value = -int(digits) if negative else int(digits)
    return value if lo <= value <= hi else None


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


async def strict_form_body(request: Request) -> None:
    """``before_request`` hook: url-encoded forms are UTF-8, strictly.

    Litestar reads a form body as latin-1 and its %-escapes with ``errors="replace"``: a
    broken byte silently becomes U+FFFD and raw (unescaped) UTF-8 becomes mojibake. Here a
    body that is not valid UTF-8 is a 400, and a valid one is parsed again properly into the
    scope state, where Litestar's ``data`` extractor looks first.
    """
    if request.method in ("GET", "HEAD", "OPTIONS") or request.content_type[0] != FORM_CONTENT_TYPE:
        return
    body = await request.body()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ClientException("form body is not valid UTF-8") from None
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    ScopeState.from_scope(request.scope).form = {k: v if len(v) > 1 else v[0] for k, v in values.items()}


class Form:
    """A parsed form: values and per-field error messages in the user's language."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.values: dict[str, str] = {}
        self.errors: dict[str, str] = {}

    def text(self, name: str, *, required: bool = True, max_length: int = 200, min_length: int = 0,
             strip: bool = True) -> str:
        raw = self.data.get(name)
        if isinstance(raw, list):
            raw = raw[0] if raw else ""
        value = str(raw or "")
        if strip:
            value = value.strip()
        self.values[name] = value
        if "\x00" in value:
            self.errors[name] = _("This field contains characters that are not allowed.")
        elif required and not value:
            self.errors[name] = _("This field is required.")
        elif len(value) > max_length:
            self.errors[name] = _("Please use at most %(n)s characters.", n=max_length)
        elif value and len(value) < min_length:
            self.errors[name] = _("Please use at least %(n)s characters.", n=min_length)
        return value

    def email(self, name: str = "email", *, required: bool = True) -> str:
        from email_validator import EmailNotValidError, validate_email

        value = self.text(name, required=required, max_length=254)
        if value and name not in self.errors:
            try:
                value = validate_email(value, check_deliverability=False).normalized
                self.values[name] = value
            except EmailNotValidError:
                self.errors[name] = _("Please enter a valid e-mail address.")
        return value

    def choice(self, name: str, options: tuple[str, ...], *, required: bool = True) -> str:
        value = self.text(name, required=required, max_length=100)
        if value and value not in options:
            self.errors[name] = _("Please choose one of the options.")
        return value

    def add_error(self, name: str, message: str) -> None:
        self.errors[name] = message

    @property
    def ok(self) -> bool:
        return not self.errors


# --- errors -----------------------------------------------------------------------------------

ERROR_TITLES = {
    400: N_("The request could not be understood."),
    403: N_("You do not have access to this page."),
    404: N_("Page not found."),
    405: N_("This action is not allowed here."),
    413: N_("The upload is too large."),
    429: N_("Too many attempts."),
    500: N_("Something went wrong on our side."),
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")[:40]


def json_error(status: int, code: str, message: str, fields: dict[str, str] | None = None,
               headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return Response(content=body, status_code=status, headers=headers, media_type="application/json")


def _error_locale(request: Request) -> str:
    """The language of an error page. Unknown paths and CSRF failures never reach
    PortalMiddleware, so the visitor's language is picked here for them."""
    state = request.scope.get("state", {})
    if "portal" in state:
        return state["portal"].locale
    settings = request.app.state.get("settings")
    locale = i18n.negotiate(user_pref=None, query=_query_lang(request.scope),
                            cookie=request.cookies.get(LANG_COOKIE),
                            accept_language=request.headers.get("accept-language"),
                            default=settings.default_locale if settings else "tr")
    i18n.set_locale(locale)
    return locale


def error_page(request: Request, status: int, *, retry_after: int | None = None,
               detail: str | None = None) -> Response:
    locale = _error_locale(request)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    headers["Cache-Control"] = "no-store"
    message = _(ERROR_TITLES.get(status, ERROR_TITLES[500]))
    if wants_json(request):
        code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}.get(status, "server_error")
        return json_error(status, code, detail or message, headers=headers)
    template = f"errors/{status if status in (403, 404, 429, 500) else 'generic'}.html"
    # "code", not "status": render() takes status= itself.
    context: dict[str, Any] = {"code": status, "message": message, "detail": detail,
                               "retry_after": retry_after,
                               "layout": "staff/base.html" if request.url.path.startswith("/staff") else "base.html"}
    if request.headers.get("hx-request") == "true":
        # htmx swaps errors too (see the htmx-config meta in base.html): show it in #main.
        headers.update({"HX-Retarget": "#main", "HX-Reswap": "innerHTML"})
        template = "errors/fragment.html"
    if "portal" in request.scope.get("state", {}):
        return render(request, template, status=status, headers=headers, **context)
    return Template(template_name=template, status_code=status, headers=headers,
                    context={**context, "customer": None, "staff": None, "locale": locale})


def exception_handler(request: Request, exc: Exception) -> Response:
    _error_locale(request)
    if isinstance(exc, NotAuthorizedException):
        if wants_json(request):
            return json_error(401, "unauthorized", _("Authentication is required."),
                              headers={"WWW-Authenticate": "Bearer"})
        login = "/staff/login" if request.url.path.startswith("/staff") else "/login"
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(path=f"{login}?next={quote(target, safe='')}", status_code=303)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        detail = None
        if status == 403 and isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
            detail = _("Your form has expired. Please go back, reload the page and try again.")
        if status == 400:
            detail = _("Please check what you entered and try again.")
        if isinstance(exc, NotFoundException):
            status = 404
        return error_page(request, status, detail=detail,
                          retry_after=int(exc.headers.get("Retry-After", 0)) if exc.headers else None)
    request.logger.exception("unhandled error on %s", request.url.path)
    return error_page(request, 500)
