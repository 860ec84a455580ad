"""/staff/settings/teams (admins only): create and rename teams, members and team leads."""

from __future__ import annotations

import re

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.accounts import staff as staff_admin
from portal.accounts.service import AccountError
from portal.auth import ADMIN
from portal.clock import now
from portal.i18n import _
from portal.staff.common import changed, checked
from portal.web import Form, FormBody, render

TEAMS = "staff/settings/teams.html"
TEAM = "staff/settings/team.html"
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")


def assignment_options() -> list[tuple[str, str]]:
    return [("round_robin", _("Round robin")), ("least_open", _("Fewest open tickets"))]


def _names(form: Form) -> tuple[str, str, str]:
    name_tr = form.text("name_tr", max_length=120)
    name_en = form.text("name_en", max_length=120)
    assignment = form.choice("assignment", staff_admin.ASSIGNMENT_MODES)
    return name_tr, name_en, assignment


# --- the list and a new team ------------------------------------------------------------------------

async def teams_page(request: Request, *, form: Form | None = None, status: int = 200,
                     notice: tuple[str, str] | None = None) -> Template:
    return render(request, TEAMS, block="teams_section", status=status, form=form or Form({}), notice=notice,
                  teams=await staff_admin.list_teams(), assignments=assignment_options())


@get("/staff/settings/teams", opt=ADMIN, include_in_schema=False)
async def teams(request: Request) -> Template:
    return await teams_page(request)


@post("/staff/settings/teams", opt=ADMIN, include_in_schema=False)
async def create_team(request: Request, data: FormBody) -> Response | Template:
    form = Form(data)
    slug = form.text("slug", max_length=60)
    if slug and "slug" not in form.errors and not SLUG.match(slug):
        form.add_error("slug", _("Use lower-case letters a-z, digits and hyphens, like %(example)s.",
                                 example="destek"))
    name_tr, name_en, assignment = _names(form)
    if form.ok:
        try:
            await staff_admin.create_team(slug=slug, name_tr=name_tr, name_en=name_en, assignment=assignment,
                                          now=now())
        except AccountError:
            form.add_error("slug", _("A team with this short name already exists."))
    if not form.ok:
        return await teams_page(request, form=form, status=422)
    return await changed(request, _("The team has been created."), "/staff/settings/teams", teams_page)


# --- one team ---------------------------------------------------------------------------------------

async def _team_or_404(team_id: int) -> dict:
    team = await staff_admin.get_team(team_id)
    if team is None:
        raise NotFoundException()
    return team


def team_page_for(team_id: int):
    """The team page as a ``Page`` for :func:`changed` (the team is looked up afresh)."""

    async def page(request: Request, *, form: Form | None = None, member_form: Form | None = None,
                   status: int = 200, notice: tuple[str, str] | None = None) -> Template:
        team = await _team_or_404(team_id)
        member_ids = {m["id"] for m in team["members"]}
        candidates = [s for s in await staff_admin.list_staff() if s["active"] and s["id"] not in member_ids]
        return render(request, TEAM, block="team_section", status=status, team=team, notice=notice,
                      form=form or Form(team), member_form=member_form or Form({}), candidates=candidates,
                      assignments=assignment_options())

    return page


@get("/staff/settings/teams/{team_id:int}", opt=ADMIN, include_in_schema=False)
async def team_detail(request: Request, team_id: int) -> Template:
    return await team_page_for(team_id)(request)


@post("/staff/settings/teams/{team_id:int}", opt=ADMIN, include_in_schema=False)
async def update_team(request: Request, team_id: int, data: FormBody) -> Response | Template:
    page = team_page_for(team_id)
    form = Form(data)
    name_tr, name_en, assignment = _names(form)
    if not form.ok:
        return await page(request, form=form, status=422)
    try:
        await staff_admin.update_team(team_id, name_tr=name_tr, name_en=name_en, assignment=assignment)
    except AccountError:
        raise NotFoundException() from None
    return await changed(request, _("The team has been saved."), f"/staff/settings/teams/{team_id}", page)


@post("/staff/settings/teams/{team_id:int}/members", opt=ADMIN, include_in_schema=False)
async def add_member(request: Request, team_id: int, data: FormBody) -> Response | Template:
    page = team_page_for(team_id)
    form = Form(data)
    staff_id = form.text("staff_id", max_length=12)
    if staff_id and not staff_id.isdigit():
        form.add_error("staff_id", _("Please choose one of the options."))
    if form.ok:
        try:
            await staff_admin.add_team_member(team_id, int(staff_id), lead=checked(data, "lead"))
        except AccountError as exc:
            if exc.code == "not_found":
                raise NotFoundException() from None
            already = exc.code == "already_member"
            form.add_error("staff_id", _("This person is already in the team.") if already
                           else _("Please choose one of the options."))
    if not form.ok:
        return await page(request, member_form=form, status=422)
    message = _("The team member has been added.")
    return await changed(request, message, f"/staff/settings/teams/{team_id}", page)


@post("/staff/settings/teams/{team_id:int}/members/{staff_id:int}/remove", opt=ADMIN, include_in_schema=False)
async def remove_member(request: Request, team_id: int, staff_id: int) -> Response | Template:
    try:
        await staff_admin.remove_team_member(team_id, staff_id)
    except AccountError:
        raise NotFoundException() from None
    return await changed(request, _("The team member has been removed."), f"/staff/settings/teams/{team_id}",
                         team_page_for(team_id))


@post("/staff/settings/teams/{team_id:int}/members/{staff_id:int}/lead", opt=ADMIN, include_in_schema=False)
async def set_lead(request: Request, team_id: int, staff_id: int, data: FormBody) -> Response | Template:
    is_lead = checked(data, "lead")
    try:
        await staff_admin.set_team_lead(team_id, staff_id, is_lead)
    except AccountError:
        raise NotFoundException() from None
    message = _("Marked as team lead.") if is_lead else _("No longer a team lead.")
    return await changed(request, message, f"/staff/settings/teams/{team_id}", team_page_for(team_id))


ROUTES = [teams, create_team, team_detail, update_team, add_member, remove_member, set_lead]
