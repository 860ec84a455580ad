"""Warnings and breaches: the worker's SLA job, once per pass.

It reads only ``ticket_sla`` rows whose alarm (``next_warn_at`` / ``next_breach_at``) has
come, through their indexes, so a pass costs the same with ten open tickets or a hundred
thousand. Each alarm is claimed by compare-and-set (the UPDATE re-checks the alarm and clears
it), on PostgreSQL with ``FOR UPDATE … SKIP LOCKED`` on the row and its ticket, so two workers
never announce the same alarm and a ticket being changed is simply left for the next pass.
The claim, the mail (outbox) and the ticket event are one transaction: each warning and each
breach is announced exactly once.

At the warning threshold the assignee is told (the team leads when nobody is assigned); at
a breach the team leads are told (the administrators for a ticket of no team or a team
without a lead) and the ticket is marked ``sla_breached``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from portal import db
from portal.accounts.tables import StaffUser, TeamMember
from portal.mail import service as outbox
from portal.sla.tables import TicketSla
from portal.tickets import signals
from portal.tickets.rules import Actor, ref
from portal.tickets.tables import Ticket, TicketEvent

log = logging.getLogger("portal.sla")

BATCH = 200
MAX_BATCHES = 10  # per kind and pass; a backlog drains over the next passes
KINDS = {"warn": ("next_warn_at", "warned_at"), "breach": ("next_breach_at", "breached_at")}


async def claim(kind: str, now: datetime, *, limit: int = BATCH) -> list[dict]:
    """Take up to ``limit`` due alarms of ``kind``; no two callers get the same one."""
    alarm, done = KINDS[kind]
    if db.is_sqlite():  # one writer at a time: the UPDATE itself is the compare-and-set
        sql = f"""UPDATE ticket_sla SET {alarm} = NULL, {done} = {{}}
                  WHERE id IN (SELECT id FROM ticket_sla WHERE {alarm} <= {{}} ORDER BY {alarm} LIMIT {int(limit)})
                    AND {alarm} <= {{}}
                  RETURNING id, ticket, target, due_at"""
        args: tuple = (now, now, now)
    else:
        sql = f"""WITH picked AS MATERIALIZED (
                      SELECT s.id FROM ticket_sla s JOIN ticket t ON t.id = s.ticket
                      WHERE s.{alarm} <= {{}} ORDER BY s.{alarm} LIMIT {int(limit)}
                      FOR UPDATE OF s, t SKIP LOCKED)
                  UPDATE ticket_sla SET {alarm} = NULL, {done} = {{}}
                  FROM picked WHERE ticket_sla.id = picked.id AND ticket_sla.{alarm} <= {{}}
                  RETURNING ticket_sla.id, ticket_sla.ticket, ticket_sla.target, ticket_sla.due_at"""
        args = (now, now, now)
    return await TicketSla.raw(sql, *args)


async def due(kind: str, now: datetime) -> bool:
    """Has any alarm of ``kind`` come? (A read outside any transaction.) Ordered and limited so
    that even a generic prepared-statement plan walks the alarm's index: an EXISTS with
    ``<= $1`` may be planned as a scan of the whole table."""
    column = getattr(TicketSla, KINDS[kind][0])
    return bool(await TicketSla.select(TicketSla.id).where(column <= now).order_by(column).limit(1))


async def _staff(ids: set[int]) -> dict[int, dict]:
    if not ids:
        return {}
    rows = await StaffUser.select(StaffUser.id, StaffUser.email, StaffUser.name, StaffUser.locale).where(
        StaffUser.id.is_in(sorted(ids)) & (StaffUser.active == True))  # noqa: E712
    return {r["id"]: r for r in rows}


async def _leads(team_ids: set[int]) -> dict[int, list[int]]:
    if not team_ids:
        return {}
    rows = await TeamMember.select(TeamMember.team, TeamMember.staff).where(
        TeamMember.team.is_in(sorted(team_ids)) & (TeamMember.is_lead == True))  # noqa: E712
    out: dict[int, list[int]] = {}
    for r in rows:
        out.setdefault(r["team"], []).append(r["staff"])
    return out


async def _admins() -> list[int]:
    return await StaffUser.select(StaffUser.id).where(
        (StaffUser.role == "admin") & (StaffUser.active == True)).output(as_list=True)  # noqa: E712


async def _announce(kind: str, claimed: list[dict], now: datetime) -> list[dict]:
    ticket_rows = await Ticket.select(Ticket.id, Ticket.number, Ticket.subject, Ticket.team, Ticket.assignee,
                                      Ticket.priority).where(Ticket.id.is_in([c["ticket"] for c in claimed]))
    by_id = {t["id"]: t for t in ticket_rows}
    leads = await _leads({t["team"] for t in ticket_rows if t["team"] is not None})
    admins = await _admins() if kind == "breach" else []
    wanted: set[int] = set(admins)
    for t in ticket_rows:
        wanted.update(leads.get(t["team"], []))
        if t["assignee"]:
            wanted.add(t["assignee"])
    staff = await _staff(wanted)
    system = Actor.system()
    announced: list[dict] = []
    events: list[TicketEvent] = []
    for row in claimed:
        ticket = by_id.get(row["ticket"])
        if ticket is None:
            continue
        due = row["due_at"]
        if kind == "warn" and due is not None and db_time(due) <= now:
            continue  # already over: the breach announcement says it all
        team_leads = leads.get(ticket["team"], [])
        if kind == "warn":
            to = [ticket["assignee"]] if ticket["assignee"] in staff else team_leads
        else:
            to = team_leads or admins
        context = {"ticket_ref": ref(ticket["number"]), "subject": ticket["subject"], "target": row["target"],
                   "due_at": db_time(due) if due is not None else None, "priority": ticket["priority"]}
        for staff_id in dict.fromkeys(to):
            person = staff.get(staff_id)
            if person is None:
                continue
            await outbox.enqueue(f"sla-{kind}", to=person["email"], name=person["name"], locale=person["locale"],
                                 context=context, now=now, related=f"ticket:{ticket['id']}",
                                 message_id=outbox.new_message_id(ref(ticket["number"])))
        events.append(TicketEvent(ticket=ticket["id"], actor_kind=system.kind, actor_name=system.name,
                                  field="sla_warning" if kind == "warn" else "sla_breach", old="",
                                  new=row["target"], created_at=now))
        announced.append(ticket)
    if events:
        await TicketEvent.insert(*events)
    if kind == "breach" and announced:
        await Ticket.update({Ticket.sla_breached: True}).where(Ticket.id.is_in([t["id"] for t in announced]))
    return announced


def db_time(value: datetime | str) -> datetime:
    """A timestamp from a raw query: SQLite may hand back text."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


async def run(now: datetime, *, limit: int = BATCH) -> int:
    """One pass: announce every warning and breach that has come. Returns how many."""
    total = 0
    for kind in KINDS:
        if not await due(kind, now):
            continue  # the usual case: one index probe, no write transaction (no SQLite write lock)
        for _ in range(MAX_BATCHES):
            async with db.transaction():
                claimed = await claim(kind, now, limit=limit)
                announced = await _announce(kind, claimed, now) if claimed else []
            for ticket in announced:
                signals.announce(ticket, "fields", Actor.system())
            total += len(announced)
            if len(claimed) < limit:
                break
    return total
