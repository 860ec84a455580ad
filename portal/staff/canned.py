"""``/staff/settings/canned-replies`` (leads and admins): the prepared answers agents insert
into replies. ``{{ customer_name }}`` and ``{{ order_number }}`` are filled in by plain
replacement; nothing else in the text is interpreted."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.auth import LEAD
from portal.clock import now
from portal.i18n import _
from portal.staff.common import changed
from portal.tickets import canned, queries
from portal.tickets.rules import TicketError
from portal.web import Form, FormBody, ctx, render

TEMPLATE = "staff/settings/canned.html"
PATH = "/staff/settings/canned-replies"


async def canned_page(request: Request, *, form: Form | None = None, edit: dict | None = None,
                      status: int = 200, notice: tuple[str, str] | None = None) -> Template:
    return render(request, TEMPLATE, block="canned_section", status=status, notice=notice,
                  form=form or Form(edit or {"language": ctx(request).locale}), edit=edit,
                  replies=await canned.all_replies(), teams=await queries.teams())


def _read(form: Form) -> tuple[str, str, str, int | None]:
    title = form.text("title", max_length=120)
    body = form.text("body", max_length=20000, strip=False)
    if not body.strip():
        form.add_error("body", _("This field is required."))
    language = form.choice("language", canned.LANGUAGES)
    team = form.text("team", required=False, max_length=12)
    if team and not team.isdigit():
        form.add_error("team", _("Please choose one of the options."))
    return title, body, language, int(team) if team.isdigit() else None


@get(PATH, opt=LEAD, include_in_schema=False)
async def list_canned(request: Request, edit: int | None = None) -> Template:
    reply = await canned.get(edit) if edit else None
    if edit and reply is None:
        raise NotFoundException()
    values = {**reply, "team": str(reply["team"] or "")} if reply else None
    return await canned_page(request, edit=values)


@post(PATH, opt=LEAD, include_in_schema=False)
async def save_canned(request: Request, data: FormBody) -> Response | Template:
    form = Form(data)
    title, body, language, team_id = _read(form)
    reply_id = form.text("id", required=False, max_length=12)
    if form.ok:
        try:
            if reply_id.isdigit():
                await canned.update(int(reply_id), title=title, body=body, language=language, team_id=team_id)
            else:
                await canned.create(title=title, body=body, language=language, team_id=team_id,
                                    by=ctx(request).staff["id"], now=now())
        except TicketError as exc:
            if exc.code == "not_found":
                raise NotFoundException() from None
            form.add_error("form", _("Please check the fields."))
    if not form.ok:
        return await canned_page(request, form=form, edit={"id": reply_id} if reply_id else None, status=422)
    return await changed(request, _("The canned reply has been saved."), PATH, canned_page)


@post(PATH + "/{reply_id:int}/delete", opt=LEAD, include_in_schema=False)
async def delete_canned(request: Request, reply_id: int) -> Response | Template:
    await canned.delete(reply_id)
    return await changed(request, _("The canned reply has been deleted."), PATH, canned_page)


ROUTES = [list_canned, save_canned, delete_canned]
