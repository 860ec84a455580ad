"""The home page and the language switch."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template

from portal.accounts import service as accounts
from portal.auth import PUBLIC
from portal.i18n import LOCALES
from portal.web import LANG_COOKIE, FormBody, ctx, render, safe_next, services


@get("/", opt=PUBLIC, include_in_schema=False)
async def home(request: Request) -> Template:
    return render(request, "customer/home.html")


@post("/lang", opt=PUBLIC, include_in_schema=False)
async def switch_language(request: Request, data: FormBody) -> Redirect:
    """Change the language: saved on the account when logged in, in a cookie otherwise."""
    lang = data.get("lang")
    nxt = data.get("next")
    target = safe_next(nxt if isinstance(nxt, str) else None, "/")  # a repeated field is a list
    response = Redirect(path=target, status_code=303)
    if lang in LOCALES:
        c = ctx(request)
        if c.customer is not None and not target.startswith("/staff"):
            await accounts.set_customer_locale(c.customer["id"], lang)
        if c.staff is not None and target.startswith("/staff"):
            await accounts.set_staff_locale(c.staff["id"], lang)
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=services(request).settings.is_https)
    return response


ROUTES = [home, switch_language]
