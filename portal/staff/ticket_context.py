"""Everything the staff ticket page shows, gathered in one place for its handlers."""

from __future__ import annotations

from litestar import Request
from litestar.exceptions import NotFoundException
from litestar.response import Template
from markupsafe import Markup, escape

from portal.clock import now
from portal.i18n import _, format_datetime
from portal.orders.service import STATUS_LABELS as ORDER_STATUS_NAMES
from portal.tickets import queries
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


def _display(messages: list[dict], ticket: dict) -> list[dict]:
    """Per-message display values, computed here once per page rather than in the template
    per message (the thread is most of the page). Translations are markup, as ``_()`` in a page."""
    system = Markup(_("System"))  # noqa: S704 - our catalogs
    requester = ticket["requester_name"]
    channels: dict[str, Markup] = {}
    for m in messages:
        m["author_label"] = m["author_name"] or (requester if m["author_kind"] == "customer" else system)
        created = m["created_at"]
        m["created_iso"] = created.isoformat()
        m["created_label"] = format_datetime(created, "short")
        channel = m["channel"]
        if channel in ("portal", "staff"):
            m["channel_label"] = None
        else:
            label = channels.get(channel)
            if label is None:
                known = CHANNEL_NAMES.get(channel)  # an unknown channel's own name is text, escaped
                label = channels[channel] = Markup(_(known)) if known else escape(channel)  # noqa: S704 - as above
            m["channel_label"] = label
    return messages


async def page(request: Request, ticket: dict, *, reply_form: Form | None = None,
               fields_form: Form | None = None, merge_form: Form | None = None, stale: bool = False,
               notice: tuple[str, str] | None = None,
               status: int = 200, block: str | None = None) -> Template:
    staff = ctx(request).staff
    # One query for the agent's teams and the form choices, one for the whole side panel.
    choices = await queries.staff_choices(staff["id"], canned=True)
    me = Actor.staff(staff, choices.team_ids)
    panel = await queries.customer_panel(ticket["requester"], ticket["id"])
    ticket_tags = panel["ticket_tags"]
    current = field_values(ticket, ticket_tags)
    return render(
        request, PAGE, block=block, status=status, headers=PRIVATE, ticket=ticket, notice=notice,
        messages=_display(await queries.thread(ticket["id"], internal=True), ticket),
        events=await queries.events(ticket["id"]),
        ticket_tags=ticket_tags,
        satisfaction=panel["satisfaction"],
        current=current,
        reply_form=reply_form or Form({"kind": "reply"}),
        fields_form=fields_form or Form(current),
        merge_form=merge_form or Form({}),
        stale=stale,
        may_change=may_change(me, ticket),
        next_statuses=[ticket["status"], *sorted(TRANSITIONS[ticket["status"]])],
        teams=choices.teams,
        agents=choices.agents,
        canned_replies=choices.canned,
        requester=panel["requester"],
        customer_value=panel["customer_value"],
        customer_tags=panel["customer_tags"],
        customer_orders=panel["customer_orders"],
        other_tickets=panel["other_tickets"],
        sla=sla_targets(ticket, now()),
        **labels(),
    )
