"""Changing a ticket's fields (status, priority, team, assignee, order, subject, tags), one
ticket or many at once.

``changes`` is a dict holding only the fields to change (``{"team": None}`` clears the
team); no magic values mean "unchanged". A change names the version it was based on; an
older version is refused as :class:`StaleVersion`, nothing written. Bulk changes go ticket
by ticket and report every ticket they could not change, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from portal import db
from portal.accounts.tables import StaffUser, Team
from portal.i18n import search_fold
from portal.orders.tables import Order
from portal.tags import service as tags
from portal.tickets import mailing, signals
from portal.tickets.rules import PRIORITIES, STATUSES, Actor, StaleVersion, TicketError, may_change, ref
from portal.tickets.service import apply, event, load, notify, status_values
from portal.tickets.tables import Ticket

FIELDS = ("status", "priority", "team", "assignee", "order", "subject", "tags", "add_tags")


# --- lookups for callers that name things (the API: team slug, agent e-mail, order number) ------

async def team_id(slug: str) -> int | None:
    row = await Team.select(Team.id).where(Team.slug == slug).first()
    return row["id"] if row else None


async def staff_id(email: str) -> int | None:
    from portal.i18n import email_key

    row = await StaffUser.select(StaffUser.id).where(
        (StaffUser.email_key == email_key(email)) & (StaffUser.active == True)).first()  # noqa: E712
    return row["id"] if row else None


async def order_id(number: str, *, customer_id: int | None = None) -> int | None:
    """An order by number; with ``customer_id``, only that customer's (a customer may link
    their own orders, never someone else's)."""
    where = Order.number == number.strip()
    if customer_id is not None:
        where &= Order.customer == customer_id
    row = await Order.select(Order.id).where(where).first()
    return row["id"] if row else None


# --- one ticket ---------------------------------------------------------------------------------

async def _names(table: Any, column: Any, ids: list[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await table.select(table.id, column.as_alias("label")).where(table.id.is_in(wanted))
    return {r["id"]: r["label"] for r in rows}


async def _diff(ticket: dict, changes: dict, now: datetime) -> tuple[dict, list[tuple[str, Any, Any]]]:
    values: dict = {}
    events: list[tuple[str, Any, Any]] = []
    if "status" in changes and changes["status"] != ticket["status"]:
        if changes["status"] not in STATUSES:
            raise TicketError("bad_status")
        values.update(status_values(ticket, changes["status"], now))
        events.append(("status", ticket["status"], changes["status"]))
    if "priority" in changes and changes["priority"] != ticket["priority"]:
        if changes["priority"] not in PRIORITIES:
            raise TicketError("bad_priority")
        values[Ticket.priority] = changes["priority"]
        events.append(("priority", ticket["priority"], changes["priority"]))
    if "subject" in changes and changes["subject"] != ticket["subject"]:
        subject = str(changes["subject"] or "").strip()
        if not subject or len(subject) > 200:
            raise TicketError("bad_subject")
        values[Ticket.subject] = subject
        values[Ticket.subject_key] = search_fold(subject)
        events.append(("subject", ticket["subject"], subject))
    for name, table, column, code, col in (
        ("team", Team, Team.slug, "no_team", Ticket.team),
        ("assignee", StaffUser, StaffUser.name, "no_assignee", Ticket.assignee),
        ("order", Order, Order.number, "no_order", Ticket.order),
    ):
        if name not in changes or changes[name] == ticket[name]:
            continue
        new = changes[name]
        labels = await _names(table, column, [ticket[name], new])
        if new is not None and new not in labels:
            raise TicketError(code)
        if name == "assignee" and new is not None and not await StaffUser.exists().where(
                (StaffUser.id == new) & (StaffUser.active == True)):  # noqa: E712
            raise TicketError(code)
        values[col] = new
        events.append((name, labels.get(ticket[name], ""), labels.get(new, "")))
    return values, events


async def update(ticket_id: int, changes: dict, *, actor: Actor, now: datetime,
                 expected_version: int | None = None) -> dict:
    """Change fields of one ticket; returns the ticket as it is now. Raises TicketError
    (``forbidden``, ``bad_transition``, ``no_team`` …) or StaleVersion; nothing is written then."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TicketError("bad_field", ", ".join(sorted(unknown)))
    async with db.transaction():
        ticket = await load(ticket_id)
        if not may_change(actor, ticket):
            raise TicketError("forbidden")
        if expected_version is not None and expected_version != ticket["version"]:
            raise StaleVersion(ticket["version"])
        values, events = await _diff(ticket, changes, now)
        current_tags = (await tags.of("ticket", [ticket_id])).get(ticket_id, [])
        wanted_tags = _wanted_tags(current_tags, changes)
        tags_changed = wanted_tags is not None and {tags.key(t) for t in wanted_tags} != {
            tags.key(t) for t in current_tags}
        if not values and not tags_changed:
            return ticket
        updated = await apply(ticket, values, now=now)
        for name, old, new in events:
            await event(ticket_id, actor, name, old, new, now)
        if tags_changed:
            await tags.replace("ticket", ticket_id, wanted_tags or [], by=actor.staff_id, now=now)
            await event(ticket_id, actor, "tags", ", ".join(current_tags), ", ".join(wanted_tags or []), now)
        if "assignee" in changes and updated["assignee"] not in (None, ticket["assignee"], actor.staff_id):
            await mailing.assigned(updated, updated["assignee"], by_name=actor.name, now=now)
        await notify(ticket_id, "fields", now)
    signals.announce(updated, "fields", actor)
    return updated


def _wanted_tags(current: list[str], changes: dict) -> list[str] | None:
    if "tags" in changes:
        return tags.parse(changes["tags"])
    if "add_tags" in changes:
        return tags.parse([*current, *tags.parse(changes["add_tags"])])
    return None


# --- many tickets -------------------------------------------------------------------------------

@dataclass
class BulkReport:
    changed: list[str] = field(default_factory=list)  # refs
    unchanged: list[str] = field(default_factory=list)  # already as asked
    refused: list[tuple[str, str]] = field(default_factory=list)  # (ref or id, reason code)


async def bulk(ticket_ids: list[int], changes: dict, *, actor: Actor, now: datetime) -> BulkReport:
    """The same change on each ticket, each in its own transaction. A ticket the actor may not
    change, or whose status cannot move that way, is reported in ``refused``: never skipped
    silently, and never blocking the others."""
    report = BulkReport()
    numbers = {r["id"]: r["number"] for r in await Ticket.select(Ticket.id, Ticket.number).where(
        Ticket.id.is_in(list(ticket_ids) or [0]))}
    for tid in dict.fromkeys(ticket_ids):
        label = ref(numbers[tid]) if tid in numbers else f"#{tid}"
        if tid not in numbers:
            report.refused.append((label, "not_found"))
            continue
        try:
            before = await load(tid)
            after = await update(tid, changes, actor=actor, now=now)
        except TicketError as exc:
            report.refused.append((label, exc.code))
            continue
        (report.changed if after["version"] != before["version"] else report.unchanged).append(label)
    return report
