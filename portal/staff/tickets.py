"""``/staff/tickets/{ref}``: the conversation with internal notes, reply or note (canned
replies fill in the customer's name and order), every field, the customer at the side.

Both forms carry the ticket ``version`` they were rendered with. A change based on an older
version is refused and the page comes back with what the agent entered still in the form
and what changed meanwhile said plainly: the second agent is told, nothing is lost.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Template

from portal.auth import AGENT
from portal.clock import now
from portal.customer.conversation import MultipartBody, file_response, read_message_form, storage
from portal.i18n import N_, _
from portal.staff.ticket_context import PAGE, actor, page, ticket_or_404
from portal.tickets import canned, changes, merging, queries, service
from portal.tickets.rules import STATUSES, StaleVersion, TicketError
from portal.web import Form, FormBody, flash, redirect

ERRORS = {
    "forbidden": N_("You may change only tickets of your teams, unassigned to a team, or assigned to you."),
    "bad_transition": N_("The ticket cannot move to that status from its current one."),
    "closed": N_("This ticket is closed: public replies are not possible any more. Add a note, or open a new "
                "ticket."),
}


def _error(code: str) -> str:
    return _(ERRORS[code]) if code in ERRORS else _("The change was refused (%(code)s).", code=code)


def _version(data: dict) -> int | None:
    raw = data.get("version")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


@get("/staff/tickets/{ref:str}", opt=AGENT, include_in_schema=False)
async def ticket_page(request: Request, ref: str, canned_id: int | None = None) -> Template:
    """``?canned_id=`` fills the reply box with that canned reply (htmx: just the reply form)."""
    ticket = await ticket_or_404(ref)
    reply_form = None
    if canned_id is not None:
        body = await canned.filled(canned_id, ticket)
        reply_form = Form({"body": body or "", "kind": "reply"})
    return await page(request, ticket, reply_form=reply_form, block="reply_form" if canned_id else None)


@post("/staff/tickets/{ref:str}/reply", opt=AGENT, include_in_schema=False)
async def reply(request: Request, ref: str, data: MultipartBody) -> Response:
    ticket = await ticket_or_404(ref)
    form, body, checked = await read_message_form(data)
    kind = form.choice("kind", ("reply", "note"))
    status = form.choice("status", STATUSES, required=False)
    if form.ok:
        try:
            await service.reply_as_staff(ticket["id"], await actor(request), body, public=kind == "reply",
                                         status=status or None, expected_version=_version(data),
                                         files=checked, now=now(), storage=storage(request))
        except StaleVersion:
            form.add_error("form", _("Someone changed this ticket while you were writing, so nothing was "
                                     "sent. Your text is still here: look at the ticket as it is now and "
                                     "send again."))
        except TicketError as exc:
            form.add_error("form", _error(exc.code))
    if not form.ok:
        fresh = await ticket_or_404(ref)
        return await page(request, fresh, reply_form=form, status=422, block="ticket")
    message = _("Your reply has been sent.") if kind == "reply" else _("Your note has been added.")
    return await _done(request, ref, message)


async def _done(request: Request, ref: str, message: str) -> Response:
    if getattr(request, "htmx", None):
        return await page(request, await ticket_or_404(ref), notice=("success", message), block="ticket")
    flash(request, message)
    return redirect(f"/staff/tickets/{ref}")


async def _field_changes(form: Form, data: dict) -> dict[str, Any]:
    """The whole field form as a change set; the service compares it with the ticket."""
    wanted: dict[str, Any] = {
        "status": form.choice("status", STATUSES),
        "priority": form.text("priority", max_length=10),
        "tags": form.text("tags", required=False, max_length=1000),
    }
    for name in ("team", "assignee"):
        raw = form.text(name, required=False, max_length=12)
        if raw and not raw.isdigit():
            form.add_error(name, _("Please choose one of the options."))
        wanted[name] = int(raw) if raw.isdigit() else None
    number = form.text("order", required=False, max_length=64)
    wanted["order"] = None
    if number:
        wanted["order"] = await changes.order_id(number)
        if wanted["order"] is None:
            form.add_error("order", _("There is no order with this number."))
    return wanted


@post("/staff/tickets/{ref:str}/fields", opt=AGENT, include_in_schema=False)
async def update_fields(request: Request, ref: str, data: FormBody) -> Response:
    ticket = await ticket_or_404(ref)
    form = Form(data)
    wanted = await _field_changes(form, data)
    stale = False
    if form.ok:
        try:
            await changes.update(ticket["id"], wanted, actor=await actor(request), now=now(),
                                 expected_version=_version(data))
        except StaleVersion:
            stale = True
            form.add_error("form", _("Someone else changed this ticket after you opened it, so your changes "
                                     "were not saved. They are still in the form; the ticket as it is now is "
                                     "shown beside them. Save again to apply them."))
        except TicketError as exc:
            field = {"bad_transition": "status", "bad_priority": "priority", "no_team": "team",
                     "no_assignee": "assignee"}.get(exc.code, "form")
            form.add_error(field, _error(exc.code))
    if not form.ok:
        fresh = await ticket_or_404(ref)
        return await page(request, fresh, fields_form=form, stale=stale, status=422, block="ticket")
    return await _done(request, ref, _("The ticket has been saved."))


@post("/staff/tickets/{ref:str}/guest-links/revoke", opt=AGENT, include_in_schema=False)
async def revoke_guest_links(request: Request, ref: str) -> Response:
    ticket = await ticket_or_404(ref)
    count = await service.revoke_guest_tokens(ticket["id"], actor=await actor(request), now=now())
    return await _done(request, ref, _("%(n)s mailed links no longer open this ticket.", n=count))


MERGE_ERRORS = {
    "different_requester": N_("Only tickets of the same customer can be merged."),
    "same_ticket": N_("A ticket cannot be merged into itself."),
    "source_closed": N_("This ticket is already closed."),
    "target_closed": N_("That ticket is closed."),
}


@post("/staff/tickets/{ref:str}/merge", opt=AGENT, include_in_schema=False)
async def merge(request: Request, ref: str, data: FormBody) -> Response:
    """Merge this ticket (a duplicate) into another one of the same customer."""
    ticket = await ticket_or_404(ref)
    form = Form(data)
    into = await queries.ticket_for_staff(form.text("into", max_length=20))
    if into is None and form.ok:
        form.add_error("into", _("There is no ticket with this number."))
    if form.ok:
        try:
            await merging.merge(ticket["id"], into["id"], actor=await actor(request), now=now())  # type: ignore[index]
        except TicketError as exc:
            code = exc.code
            form.add_error("into", _(MERGE_ERRORS[code]) if code in MERGE_ERRORS else _error(code))
    if not form.ok:
        return await page(request, ticket, merge_form=form, status=422, block="ticket")
    target = f"T-{into['number']}"  # type: ignore[index]
    flash(request, _("%(ref)s has been merged into %(into)s.", ref=ref, into=target))
    if getattr(request, "htmx", None):
        return ClientRedirect(f"/staff/tickets/{target}")
    return redirect(f"/staff/tickets/{target}")


@get("/staff/tickets/{ref:str}/attachments/{attachment_id:int}", opt=AGENT, include_in_schema=False)
async def attachment(request: Request, ref: str, attachment_id: int) -> Response:
    ticket = await ticket_or_404(ref)
    row = await queries.attachment(ticket["id"], attachment_id, internal=True)
    if row is None:
        raise NotFoundException()
    return await file_response(row, storage(request))


ROUTES = [ticket_page, reply, update_fields, revoke_guest_links, merge, attachment]
__all__ = ["PAGE", "ROUTES"]
