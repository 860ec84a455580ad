"""/staff/settings (admins only): the overview and the staff members section.

Teams live in ``portal.staff.teams`` and API tokens in ``portal.staff.api_tokens``. Every
rule (no changing one's own role, deactivation ends sessions) is in
``portal.accounts.staff``; these handlers parse, call it and pick a template.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.accounts import staff as staff_admin
from portal.accounts.service import ROLES, AccountError
from portal.auth import ADMIN
from portal.clock import now
from portal.customer.accounts import PASSWORD_MAX, PASSWORD_MIN
from portal.i18n import _
from portal.staff.common import changed, checked
from portal.web import Form, FormBody, ctx, render, services

MEMBERS = "staff/settings/members.html"


def role_options() -> list[tuple[str, str]]:
    return [("agent", _("Agent")), ("lead", _("Team lead")), ("admin", _("Administrator"))]


def self_error() -> str:
    return _("You cannot change your own role or deactivate yourself. Ask another administrator.")


@get("/staff/settings", opt=ADMIN, include_in_schema=False)
async def settings_index(request: Request) -> Template:
    counts = await staff_admin.directory_counts()
    tokens = [t for t in await staff_admin.list_api_tokens() if t["revoked_at"] is None]
    return render(request, "staff/settings/index.html", counts=counts, active_tokens=len(tokens))


# --- members --------------------------------------------------------------------------------------

async def members_page(request: Request, *, form: Form | None = None, status: int = 200,
                       notice: tuple[str, str] | None = None) -> Template:
    return render(request, MEMBERS, block="members_section", status=status, form=form or Form({}),
                  notice=notice, members=await staff_admin.list_staff(), teams=await staff_admin.list_teams(),
                  roles=role_options(), me=ctx(request).staff["id"])


@get("/staff/settings/members", opt=ADMIN, include_in_schema=False)
async def members(request: Request) -> Template:
    return await members_page(request)


@post("/staff/settings/members", opt=ADMIN, include_in_schema=False)
async def add_member(request: Request, data: FormBody) -> Response | Template:
    form = Form(data)
    name = form.text("name", max_length=200)
    email = form.email()
    role = form.choice("role", ROLES)
    locale = form.choice("locale", staff_admin.LOCALES)
    team = form.text("team", required=False, max_length=12)
    password = form.text("password", strip=False, max_length=PASSWORD_MAX, min_length=PASSWORD_MIN)
    team_id = int(team) if team.isdigit() else None
    if team and team_id is None:
        form.add_error("team", _("Please choose one of the options."))
    if not form.ok:
        return await members_page(request, form=form, status=422)
    password_hash = await services(request).passwords.hash(password)
    try:
        await staff_admin.add_staff_member(email=email, name=name, role=role, password_hash=password_hash,
                                           team_id=team_id, locale=locale, now=now())
    except AccountError as exc:
        if exc.code == "email_taken":
            form.add_error("email", _("A staff member with this e-mail address already exists."))
        else:
            form.add_error("team", _("Please choose one of the options."))
        return await members_page(request, form=form, status=422)
    return await changed(request, _("%(name)s can log in now.", name=name), "/staff/settings/members",
                         members_page)


@post("/staff/settings/members/{staff_id:int}/role", opt=ADMIN, include_in_schema=False)
async def change_role(request: Request, staff_id: int, data: FormBody) -> Response | Template:
    form = Form(data)
    role = form.choice("role", ROLES)
    if not form.ok:
        return await members_page(request, status=422, notice=("error", form.errors["role"]))
    try:
        await staff_admin.change_role(ctx(request).staff["id"], staff_id, role)
    except AccountError as exc:
        if exc.code == "not_found":
            raise NotFoundException() from None
        return await members_page(request, status=422, notice=("error", self_error()))
    return await changed(request, _("The role has been changed."), "/staff/settings/members", members_page)


@post("/staff/settings/members/{staff_id:int}/active", opt=ADMIN, include_in_schema=False)
async def set_active(request: Request, staff_id: int, data: FormBody) -> Response | Template:
    active = checked(data, "active")
    try:
        await staff_admin.set_active(ctx(request).staff["id"], staff_id, active)
    except AccountError as exc:
        if exc.code == "not_found":
            raise NotFoundException() from None
        return await members_page(request, status=422, notice=("error", self_error()))
    message = _("The account is active again.") if active else _("The account is deactivated and logged out.")
    return await changed(request, message, "/staff/settings/members", members_page)


ROUTES = [settings_index, members, add_member, change_role, set_active]
