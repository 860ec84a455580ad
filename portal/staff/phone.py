"""``/staff/tickets/new``: log a phone call (or anything staff take down) as a ticket.

The customer is found while typing (e-mail, phone or name; see ``/staff/customers/search``)
or entered as a new one by e-mail address. The call notes become the first message, written
by the agent; the customer gets the confirmation mail with their link unless the agent says
otherwise.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.response import Template

from portal.accounts import service as accounts
from portal.auth import AGENT
from portal.clock import now
from portal.customer.conversation import MultipartBody, read_message_form, storage
from portal.i18n import _
from portal.staff.common import checked
from portal.staff.ticket_context import actor, labels
from portal.tickets import changes, customers, queries, service
from portal.tickets.rules import PRIORITIES, TicketError
from portal.web import Form, ctx, flash, redirect, render

TEMPLATE = "staff/tickets/new.html"
STATUSES_AT_START = ("new", "open", "pending", "solved")


async def _page(request: Request, form: Form, *, chosen: dict | None = None, status: int = 200) -> Template:
    return render(request, TEMPLATE, block="new_ticket", status=status, form=form, chosen=chosen,
                  teams=await queries.teams(), agents=await queries.agents(),
                  start_statuses=STATUSES_AT_START, headers={"Cache-Control": "private, no-store"},
                  **labels())


@get("/staff/tickets/new", opt=AGENT, include_in_schema=False)
async def new_ticket_page(request: Request, customer_id: int | None = None) -> Template:
    chosen = await customers.get(customer_id) if customer_id else None
    defaults = {"channel": "phone", "priority": "normal", "status": "open", "notify": "1",
                "assignee": str(ctx(request).staff["id"]), "customer_id": str(customer_id or "")}
    return await _page(request, Form(defaults), chosen=chosen)


async def _requester(form: Form, data: dict) -> dict | None:
    raw = form.text("customer_id", required=False, max_length=12)
    if raw.isdigit():
        found = await customers.get(int(raw))
        if found is None:
            form.add_error("customer_id", _("Please choose the customer again."))
        return found
    email = form.email("email")
    name = form.text("name", required=False, max_length=200)
    phone = form.text("phone", required=False, max_length=32)
    if not form.ok:
        return None
    return await accounts.find_or_create_customer(email, name=name, phone=phone or None, now=now())


async def _choice_id(form: Form, name: str, allowed: set[int]) -> int | None:
    raw = form.text(name, required=False, max_length=12)
    if raw and (not raw.isdigit() or int(raw) not in allowed):
        form.add_error(name, _("Please choose one of the options."))
        return None
    return int(raw) if raw else None


@post("/staff/tickets/new", opt=AGENT, include_in_schema=False)
async def create_ticket(request: Request, data: MultipartBody) -> Response:
    form, body, files = await read_message_form(data)
    subject = form.text("subject", max_length=200)
    channel = form.choice("channel", ("phone", "staff"))
    priority = form.choice("priority", PRIORITIES)
    status = form.choice("status", STATUSES_AT_START)
    team_id = await _choice_id(form, "team", {t["id"] for t in await queries.teams()})
    assignee_id = await _choice_id(form, "assignee", {a["id"] for a in await queries.agents()})
    number = form.text("order", required=False, max_length=64)
    order_id = await changes.order_id(number) if number else None
    if number and order_id is None:
        form.add_error("order", _("There is no order with this number."))
    requester = await _requester(form, data) if form.ok else None
    if not form.ok or requester is None:
        raw = str(data.get("customer_id") or "")
        chosen = await customers.get(int(raw)) if raw.isdigit() else None
        return await _page(request, form, chosen=chosen, status=422)
    new = service.NewTicket(subject=subject, body=body, requester_id=requester["id"], channel=channel,
                            priority=priority, team_id=team_id, assignee_id=assignee_id, order_id=order_id,
                            language=requester["locale"], files=files, status=status,
                            notify_requester=checked(data, "notify"))
    try:
        opened = await service.open_ticket(new, actor=await actor(request), now=now(),
                                           storage=storage(request))
    except TicketError as exc:
        form.add_error("form", _("The ticket could not be opened (%(code)s).", code=exc.code))
        return await _page(request, form, status=422)
    ref = f"T-{opened.ticket['number']}"
    flash(request, _("Ticket %(ref)s has been opened.", ref=ref))
    return redirect(f"/staff/tickets/{ref}")


ROUTES = [new_ticket_page, create_ticket]
