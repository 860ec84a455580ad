"""Everything the staff ticket page shows, gathered in one place for its handlers."""

from __future__ import annotations

from litestar import Request
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.clock import now
from portal.orders.service import STATUS_LABELS as ORDER_STATUS_NAMES
from portal.surveys import results as survey_results
from portal.tags import service as tags
from portal.tickets import canned, customers, queries
from portal.tickets.present import sla_targets
from portal.tickets.rules import (
    CHANNEL_NAMES,
    PRIORITIES,
    PRIORITY_NAMES,
    STATUS_NAMES,
    TRANSITIONS,
    Actor,
    may_change,
)
from portal.value import service as customer_value
from portal.web import Form, ctx, render

PAGE = "staff/tickets/detail.html"
PRIVATE = {"Cache-Control": "private, no-store"}


async def actor(request: Request) -> Actor:
    staff = ctx(request).staff
    return Actor.staff(staff, await queries.team_ids_of(staff["id"]))


async def ticket_or_404(ref: str) -> dict:
    ticket = await queries.ticket_for_staff(ref)
    if ticket is None:
        raise NotFoundException()
    return ticket


def labels() -> dict:
    return {"status_names": STATUS_NAMES, "priority_names": PRIORITY_NAMES, "channel_names": CHANNEL_NAMES,
            "priorities": PRIORITIES, "order_status_names": ORDER_STATUS_NAMES}


def field_values(ticket: dict, ticket_tags: list[str]) -> dict:
    """The field form as the ticket is now."""
    return {"status": ticket["status"], "priority": ticket["priority"], "team": str(ticket["team"] or ""),
            "assignee": str(ticket["assignee"] or ""), "order": ticket["order_number"] or "",
            "tags": ", ".join(ticket_tags)}


async def page(request: Request, ticket: dict, *, reply_form: Form | None = None,
               fields_form: Form | None = None, merge_form: Form | None = None, stale: bool = False,
               notice: tuple[str, str] | None = None,
               status: int = 200, block: str | None = None) -> Template:
    me = await actor(request)
    ticket_tags = (await tags.of("ticket", [ticket["id"]])).get(ticket["id"], [])
    current = field_values(ticket, ticket_tags)
    return render(
        request, PAGE, block=block, status=status, headers=PRIVATE, ticket=ticket, notice=notice,
        messages=await queries.thread(ticket["id"], internal=True),
        events=await queries.events(ticket["id"]),
        ticket_tags=ticket_tags,
        satisfaction=await survey_results.of_ticket(ticket["id"]),
        current=current,
        reply_form=reply_form or Form({"kind": "reply"}),
        fields_form=fields_form or Form(current),
        merge_form=merge_form or Form({}),
        stale=stale,
        may_change=may_change(me, ticket),
        next_statuses=[ticket["status"], *sorted(TRANSITIONS[ticket["status"]])],
        teams=await queries.teams(),
        agents=await queries.agents(),
        canned_replies=await canned.all_replies(),
        requester=await customers.get(ticket["requester"]),
        customer_value=await customer_value.value_of(ticket["requester"]),
        customer_tags=(await tags.of("customer", [ticket["requester"]])).get(ticket["requester"], []),
        customer_orders=await customers.orders(ticket["requester"], limit=5),
        other_tickets=await queries.other_tickets(ticket["requester"], exclude=ticket["id"]),
        sla=sla_targets(ticket, now()),
        **labels(),
    )
