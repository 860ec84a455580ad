"""The account page, ``/account``: profile and language, password, download my data, delete
my account (KVKK/GDPR). Every action that can lock the owner out asks for the password."""

from __future__ import annotations

import json
import re

from litestar import Request, Response, get, post
from litestar.response import Template

from portal.accounts import service as accounts
from portal.auth import CUSTOMER
from portal.clock import now
from portal.customer.accounts import (
    LOGIN_PER_ACCOUNT,
    LOGIN_WINDOW,
    PASSWORD_MAX,
    FormBody,
    done,
    password_field,
    throttled,
)
from portal.i18n import LOCALES, _, use_locale
from portal.web import Form, ctx, error_page, flash, render, services

PHONE = re.compile(r"\+?[0-9 ()./-]{5,32}")


def account_page_context(request: Request, **forms: Form) -> dict:
    """The three forms of the page; the one being re-rendered comes in with its errors."""
    customer = ctx(request).customer
    return {"form": forms.get("form") or Form(customer),
            "password_form": forms.get("password_form") or Form({}),
            "delete_form": forms.get("delete_form") or Form({})}


async def password_is_right(request: Request, form: Form, field: str, password: str) -> int | None:
    """Check the current password (throttled like log-in); an error goes on ``field``.
    Returns seconds to wait when there were too many wrong tries."""
    svc = services(request)
    customer_id = ctx(request).customer["id"]
    key = (f"pwcheck:{customer_id}", LOGIN_PER_ACCOUNT, LOGIN_WINDOW)
    if wait := await throttled(request, key):
        return wait
    ok, _rehash = await svc.passwords.verify(await accounts.password_hash_of(customer_id), password)
    if not ok:
        await svc.throttle.hit(*key)
        form.add_error(field, _("This is not your current password."))
    return None


@get("/account", opt=CUSTOMER, include_in_schema=False)
async def account_page(request: Request) -> Template:
    return render(request, "customer/account.html", **account_page_context(request))


@post("/account/profile", opt=CUSTOMER, include_in_schema=False)
async def update_profile(request: Request, data: FormBody) -> Response:
    form = Form(data)
    name = form.text("name", max_length=200)
    phone = form.text("phone", required=False, max_length=32)
    locale = form.choice("locale", LOCALES)
    if phone and "phone" not in form.errors and not PHONE.fullmatch(phone):
        form.add_error("phone", _("Please enter a phone number, like +90 532 123 45 67."))
    if not form.ok:
        return render(request, "customer/account.html", block="profile_form", status=422,
                      **account_page_context(request, form=form))
    customer_id = ctx(request).customer["id"]
    await accounts.update_profile(customer_id, name=name, phone=phone, locale=locale, now=now())
    with use_locale(locale):  # the confirmation speaks the language just chosen
        flash(request, _("Your profile has been saved."))
    return done(request, "/account")


@post("/account/password", opt=CUSTOMER, include_in_schema=False)
async def change_password(request: Request, data: FormBody) -> Response:
    c = ctx(request)
    form = Form(data)
    current = form.text("current_password", strip=False, max_length=PASSWORD_MAX)
    new = password_field(form, "new_password")
    if form.ok and (wait := await password_is_right(request, form, "current_password", current)):
        return error_page(request, 429, retry_after=wait)
    if not form.ok:
        return render(request, "customer/account.html", block="password_form", status=422,
                      **account_page_context(request, password_form=form))
    password_hash = await services(request).passwords.hash(new)
    version = await accounts.change_password(c.customer["id"], password_hash, now=now())
    # This device stays logged in, on a new session id; every other session has ended.
    c.session.rotate()
    c.session["cv"] = version
    flash(request, _("Your password has been changed. Other devices have been logged out."))
    return done(request, "/account")


@get("/account/export", opt=CUSTOMER, include_in_schema=False)
async def export_data(request: Request) -> Response:
    data = await accounts.export_customer(ctx(request).customer["id"])
    body = json.dumps(data, default=str, ensure_ascii=False, indent=2)
    return Response(body.encode(), media_type="application/json; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="my-data.json"', "Cache-Control": "no-store"})


@post("/account/delete", opt=CUSTOMER, include_in_schema=False)
async def delete_account(request: Request, data: FormBody) -> Response:
    c = ctx(request)
    form = Form(data)
    password = form.text("password", strip=False, max_length=PASSWORD_MAX)
    if form.ok and (wait := await password_is_right(request, form, "password", password)):
        return error_page(request, 429, retry_after=wait)
    if not form.ok:
        return render(request, "customer/account.html", block="delete_form", status=422,
                      **account_page_context(request, delete_form=form))
    await accounts.delete_account(c.customer["id"], now=now())
    c.session.clear()
    c.session.rotate()
    flash(request, _("Your account has been deleted."))
    return done(request, "/")


ROUTES = [account_page, update_profile, change_password, export_data, delete_account]
