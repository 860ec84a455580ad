"""Staff log-in and log-out at /staff/login (separate from the customer session keys)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

from portal.accounts import service as accounts
from portal.auth import PUBLIC
from portal.clock import now
from portal.customer.accounts import (
    LOGIN_PER_ACCOUNT,
    LOGIN_PER_ADDRESS,
    LOGIN_WINDOW,
    PASSWORD_MAX,
    client_ip,
    throttled,
)
from portal.i18n import _, email_key
from portal.web import Form, FormBody, ctx, error_page, redirect, render, safe_next, services


def staff_next(value: Any) -> str:
    """Where to go after log-in: a local ``/staff`` page only (never a customer page or another site)."""
    target = safe_next(value if isinstance(value, str) else None, "/staff")
    if target == "/staff" or target.startswith(("/staff/", "/staff?")):
        return target
    return "/staff"


@get("/staff/login", opt=PUBLIC, include_in_schema=False)
async def staff_login_page(request: Request, next: str | None = None) -> Response | Template:  # noqa: A002
    target = staff_next(next)
    if ctx(request).staff is not None:
        return redirect(target)
    return render(request, "staff/login.html", form=Form({}), next=target)


@post("/staff/login", opt=PUBLIC, include_in_schema=False)
async def staff_login(request: Request, data: FormBody) -> Response | Template:
    form = Form(data)
    email = form.text("email", max_length=254)
    password = form.text("password", strip=False, max_length=PASSWORD_MAX)
    target = staff_next(data.get("next"))
    if not form.ok:
        return render(request, "staff/login.html", block="login_form", form=form, next=target, status=422)
    svc = services(request)
    account_key = (f"staff-login:acct:{email_key(email)}", LOGIN_PER_ACCOUNT, LOGIN_WINDOW)
    address_key = (f"login:ip:{client_ip(request)}", LOGIN_PER_ADDRESS, LOGIN_WINDOW)
    if wait := await throttled(request, account_key, address_key):
        return error_page(request, 429, retry_after=wait)
    staff = await accounts.staff_for_login(email)
    ok, new_hash = await svc.passwords.verify(staff["password_hash"] if staff else None, password)
    if not ok or staff is None:
        await svc.throttle.hit(*account_key)
        await svc.throttle.hit(*address_key)
        form.add_error("form", _("The e-mail address or the password is not right."))
        return render(request, "staff/login.html", block="login_form", form=form, next=target, status=422)
    await svc.throttle.reset(account_key[0])
    await accounts.record_staff_login(staff["id"], now=now(), new_hash=new_hash)
    session = ctx(request).session
    session.rotate()
    session["sid"] = staff["id"]
    session["sv"] = staff["session_version"]
    if getattr(request, "htmx", None):
        # htmx would follow a 303 and swap the whole dashboard into the form: navigate instead.
        navigate = ClientRedirect(target)
        navigate.status_code = 200
        return navigate
    return redirect(target)


@post("/staff/logout", opt=PUBLIC, include_in_schema=False)
async def staff_logout(request: Request) -> Redirect:
    session = ctx(request).session
    session.pop("sid", None)
    session.pop("sv", None)
    session.rotate()
    return redirect("/staff/login")


ROUTES = [staff_login_page, staff_login, staff_logout]
