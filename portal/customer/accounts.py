"""Sign-up, e-mail verification, log-in/out and the forgotten-password flow.

Handlers only parse, throttle, call one service function and answer. Every form works
without JavaScript (success: 303) and with htmx (an invalid form: its block, 422; success:
``HX-Redirect``, because the next page is a whole page, not a piece of this one).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from portal.accounts import service as accounts
from portal.auth import PUBLIC
from portal.clock import now
from portal.i18n import _, email_key
from portal.web import Form, FormBody, ctx, error_page, flash, redirect, render, safe_next, services

PASSWORD_MIN = 10
PASSWORD_MAX = 1024
LOGIN_WINDOW = 15 * 60
LOGIN_PER_ACCOUNT = 5
LOGIN_PER_ADDRESS = 30
HOUR = 3600
# Pages whose URL holds a secret token: not cached, and the token never leaves in a Referer.
TOKEN_PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def password_field(form: Form, name: str) -> str:
    """A new password: 10 to 1024 characters, kept exactly as typed (no stripping)."""
    value = form.text(name, strip=False, max_length=PASSWORD_MAX)
    if value and name not in form.errors and len(value) < PASSWORD_MIN:
        form.add_error(name, _("Please use at least %(n)s characters.", n=PASSWORD_MIN))
    return value


def string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


async def throttled(request: Request, *keys: tuple[str, int, int]) -> int | None:
    """Seconds to wait when any (key, limit, window) is over its limit, else None."""
    throttle = services(request).throttle
    for key, limit, window in keys:
        verdict = await throttle.peek(key, limit, window)
        if not verdict.allowed:
            return verdict.retry_after
    return None


def done(request: Request, path: str) -> Response:
    """The answer to a form that worked: 303 for a plain form, ``HX-Redirect`` for htmx."""
    if getattr(request, "htmx", None):
        return Response(content=None, status_code=200, headers={"HX-Redirect": path})
    return redirect(path)


def link_invalid(request: Request, kind: str) -> Template:
    return render(request, "customer/link_invalid.html", kind=kind, status=410, headers=TOKEN_PAGE_HEADERS)


def start_session(request: Request, customer: dict) -> None:
    """Log in on a fresh session id, so an id planted before log-in is worth nothing."""
    session = ctx(request).session
    session.rotate()
    session["cid"] = customer["id"]
    session["cv"] = customer["session_version"]


def mail_sent(request: Request, page: str, email: str) -> Response:
    """Post/redirect/get to the "check your e-mail" page, the same whatever happened."""
    ctx(request).session["sent_to"] = email
    return done(request, page)


# --- sign-up and verification -------------------------------------------------------------------

@get("/signup", opt=PUBLIC, include_in_schema=False)
async def signup_page(request: Request) -> Template:
    return render(request, "customer/signup.html", form=Form({}))


@post("/signup", opt=PUBLIC, include_in_schema=False)
async def signup(request: Request, data: FormBody) -> Response:
    form = Form(data)
    name = form.text("name", max_length=200)
    email = form.email()
    password = password_field(form, "password")
    if not form.ok:
        return render(request, "customer/signup.html", block="signup_form", form=form, status=422)
    ip_key = (f"signup:ip:{client_ip(request)}", 20, HOUR)
    if wait := await throttled(request, ip_key):
        return error_page(request, 429, retry_after=wait)
    await services(request).throttle.hit(*ip_key)
    password_hash = await services(request).passwords.hash(password)
    # At most three mails an hour to one address through this form; the answer stays the same.
    address_key = (f"signup:to:{email_key(email)}", 3, HOUR)
    if not await throttled(request, address_key):
        await services(request).throttle.hit(*address_key)
        await accounts.signup(name=name, email=email, password_hash=password_hash, locale=ctx(request).locale,
                              now=now())
    return mail_sent(request, "/signup/sent", email)


@get(["/signup/sent", "/password/forgot/sent"], opt=PUBLIC, include_in_schema=False)
async def mail_sent_page(request: Request) -> Template:
    reason = "reset" if request.url.path.startswith("/password") else "signup"
    return render(request, "customer/check_mail.html", email=string(ctx(request).session.get("sent_to")),
                  reason=reason)


@get("/verify/{token:str}", opt=PUBLIC, include_in_schema=False)
async def verify_page(request: Request, token: str) -> Template:
    # Only a POST uses the token up: mail scanners that fetch every link must not.
    if not await accounts.token_is_valid("verify", token, now=now()):
        return link_invalid(request, "verify")
    return render(request, "customer/verify.html", token=token, headers=TOKEN_PAGE_HEADERS)


@post("/verify/{token:str}", opt=PUBLIC, include_in_schema=False)
async def verify(request: Request, token: str) -> Response:
    try:
        await accounts.verify_email(token, now=now())
    except accounts.AccountError:
        return link_invalid(request, "verify")
    flash(request, _("Your e-mail address is confirmed. You can log in now."))
    return done(request, "/login")


@post("/verify/resend", opt=PUBLIC, include_in_schema=False)
async def resend_verification(request: Request, data: FormBody) -> Response:
    form = Form(data)
    email = form.email()
    if not form.ok:
        return error_page(request, 400, detail=form.errors["email"])
    ip_key = (f"resend:ip:{client_ip(request)}", 10, HOUR)
    if wait := await throttled(request, ip_key):
        return error_page(request, 429, retry_after=wait)
    await services(request).throttle.hit(*ip_key)
    address_key = (f"resend:to:{email_key(email)}", 3, HOUR)
    if not await throttled(request, address_key):
        await services(request).throttle.hit(*address_key)
        await accounts.resend_verification(email, now=now())
    return mail_sent(request, "/signup/sent", email)


# --- log-in and log-out -------------------------------------------------------------------------

def login_form(request: Request, form: Form, target: str, *, status: int = 422,
               unverified: str | None = None) -> Template:
    return render(request, "customer/login.html", block="login_form", form=form, next=target,
                  unverified=unverified, status=status)


@get("/login", opt=PUBLIC, include_in_schema=False)
async def login_page(request: Request, next: str | None = None) -> Template:  # noqa: A002
    return render(request, "customer/login.html", form=Form({}), next=safe_next(next, "/"))


@post("/login", opt=PUBLIC, include_in_schema=False)
async def login(request: Request, data: FormBody) -> Response:
    form = Form(data)
    email = form.text("email", max_length=254)
    password = form.text("password", strip=False, max_length=PASSWORD_MAX)
    target = safe_next(string(data.get("next")), "/")
    if not form.ok:
        return login_form(request, form, target)
    svc = services(request)
    keys = ((f"login:acct:{email_key(email)}", LOGIN_PER_ACCOUNT, LOGIN_WINDOW),
            (f"login:ip:{client_ip(request)}", LOGIN_PER_ADDRESS, LOGIN_WINDOW))
    if wait := await throttled(request, *keys):
        return error_page(request, 429, retry_after=wait)
    customer = await accounts.customer_for_login(email)
    # An unknown address is checked against a dummy hash: the same answer in the same time.
    ok, new_hash = await svc.passwords.verify(customer["password_hash"] if customer else None, password)
    if not ok or customer is None:
        for key in keys:
            await svc.throttle.hit(*key)
        form.add_error("form", _("The e-mail address or the password is not right."))
        return login_form(request, form, target)
    if customer["email_verified_at"] is None:
        # 403 for a plain form; htmx only swaps 2xx and 422, so it gets the block with 200.
        return login_form(request, form, target, unverified=customer["email"],
                          status=200 if getattr(request, "htmx", None) else 403)
    await svc.throttle.reset(keys[0][0])
    await accounts.record_login(customer["id"], now=now(), new_hash=new_hash)
    start_session(request, customer)
    return done(request, target)


@post("/logout", opt=PUBLIC, include_in_schema=False)
async def logout(request: Request) -> Redirect:
    session = ctx(request).session
    session.pop("cid", None)
    session.pop("cv", None)
    session.rotate()
    return redirect("/")


# --- forgotten password -------------------------------------------------------------------------

@get("/password/forgot", opt=PUBLIC, include_in_schema=False)
async def forgot_page(request: Request) -> Template:
    return render(request, "customer/forgot.html", form=Form({}))


@post("/password/forgot", opt=PUBLIC, include_in_schema=False)
async def forgot(request: Request, data: FormBody) -> Response:
    form = Form(data)
    email = form.email()
    if not form.ok:
        return render(request, "customer/forgot.html", block="forgot_form", form=form, status=422)
    ip_key = (f"forgot:ip:{client_ip(request)}", 10, HOUR)
    if wait := await throttled(request, ip_key):
        return error_page(request, 429, retry_after=wait)
    await services(request).throttle.hit(*ip_key)
    # At most three reset mails an hour to one address, and the same answer either way.
    address_key = (f"forgot:acct:{email_key(email)}", 3, HOUR)
    if not await throttled(request, address_key):
        await services(request).throttle.hit(*address_key)
        await accounts.request_password_reset(email, now=now())
    return mail_sent(request, "/password/forgot/sent", email)


@get("/password/reset/{token:str}", opt=PUBLIC, include_in_schema=False)
async def reset_page(request: Request, token: str) -> Template:
    if not await accounts.token_is_valid("reset", token, now=now()):
        return link_invalid(request, "reset")
    return render(request, "customer/reset.html", token=token, form=Form({}), headers=TOKEN_PAGE_HEADERS)


@post("/password/reset/{token:str}", opt=PUBLIC, include_in_schema=False)
async def reset(request: Request, token: str, data: FormBody) -> Response:
    form = Form(data)
    password = password_field(form, "password")
    if not form.ok:
        return render(request, "customer/reset.html", block="reset_form", token=token, form=form, status=422,
                      headers=TOKEN_PAGE_HEADERS)
    password_hash = await services(request).passwords.hash(password)
    try:
        customer = await accounts.reset_password(token, password_hash, now=now())
    except accounts.AccountError:
        return link_invalid(request, "reset")
    start_session(request, customer)
    flash(request, _("Your password has been changed. Every other device has been logged out."))
    return done(request, "/account")


ROUTES = [
    signup_page, signup, mail_sent_page, verify_page, verify, resend_verification, login_page, login, logout,
    forgot_page, forgot, reset_page, reset,
]
