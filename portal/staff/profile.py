"""/staff/profile: any staff member's own name, language, availability and password.

Nothing here reads a role, an active flag or an e-mail address from the form: a staff
member cannot promote themselves by adding a field to the request.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Template

from portal.accounts import staff as staff_admin
from portal.auth import AGENT
from portal.customer.accounts import LOGIN_PER_ACCOUNT, LOGIN_WINDOW, PASSWORD_MAX, PASSWORD_MIN, throttled
from portal.i18n import _
from portal.staff.common import changed, checked
from portal.web import Form, FormBody, ctx, error_page, flash, render, services

PROFILE = "staff/profile.html"


async def profile_page(request: Request, *, form: Form | None = None, password_form: Form | None = None,
                       status: int = 200, notice: tuple[str, str] | None = None) -> Template:
    me = await staff_admin.get_staff(ctx(request).staff["id"])
    return render(request, PROFILE, block="profile_section", status=status, me=me, form=form or Form(me),
                  password_form=password_form or Form({}), notice=notice)


@get("/staff/profile", opt=AGENT, include_in_schema=False)
async def profile(request: Request) -> Template:
    return await profile_page(request)


@post("/staff/profile", opt=AGENT, include_in_schema=False)
async def update_profile(request: Request, data: FormBody) -> Response | Template:
    form = Form(data)
    name = form.text("name", max_length=200)
    locale = form.choice("locale", staff_admin.LOCALES)
    if not form.ok:
        return await profile_page(request, form=form, status=422)
    me = ctx(request).staff
    await staff_admin.update_own_profile(me["id"], name=name, locale=locale)
    if locale != me["locale"] and getattr(request, "htmx", None):
        # A new language changes the whole page (menu, dates), not just this block.
        flash(request, _("Your profile has been saved."))
        reload = ClientRedirect("/staff/profile")
        reload.status_code = 200  # not the POST default 201
        return reload
    return await changed(request, _("Your profile has been saved."), "/staff/profile", profile_page)


@post("/staff/profile/availability", opt=AGENT, include_in_schema=False)
async def set_availability(request: Request, data: FormBody) -> Response | Template:
    available = checked(data, "available")
    await staff_admin.set_available(ctx(request).staff["id"], available)
    message = (_("You are available: new tickets can be assigned to you.") if available
               else _("You are away: no new tickets will be assigned to you."))
    return await changed(request, message, "/staff/profile", profile_page)


@post("/staff/profile/password", opt=AGENT, include_in_schema=False)
async def change_password(request: Request, data: FormBody) -> Response | Template:
    c = ctx(request)
    svc = services(request)
    form = Form(data)
    current = form.text("current_password", strip=False, max_length=PASSWORD_MAX)
    new = form.text("new_password", strip=False, max_length=PASSWORD_MAX, min_length=PASSWORD_MIN)
    if form.ok:
        key = (f"staff-pwchange:{c.staff['id']}", LOGIN_PER_ACCOUNT, LOGIN_WINDOW)
        if wait := await throttled(request, key):
            return error_page(request, 429, retry_after=wait)
        stored = await staff_admin.staff_password_hash(c.staff["id"])
        ok, _rehash = await svc.passwords.verify(stored, current)
        if not ok:
            await svc.throttle.hit(*key)
            form.add_error("current_password", _("This is not your current password."))
    if not form.ok:
        return await profile_page(request, password_form=form, status=422)
    version = await staff_admin.change_own_password(c.staff["id"], await svc.passwords.hash(new))
    # Keep this session (with a new id), end every other one.
    c.session.rotate()
    c.session["sv"] = version
    message = _("Your password has been changed. Your other sessions have been logged out.")
    return await changed(request, message, "/staff/profile", profile_page)


ROUTES = [profile, update_profile, set_availability, change_password]
