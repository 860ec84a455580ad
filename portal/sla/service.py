"""Applying the SLA clock to tickets: which policy matches a ticket, the calendar it counts
in, and the listener that recomputes a ticket's targets inside every ticket change.

:func:`recompute` runs in the transaction of the change (``portal.tickets.service.on_change``):
it reads the ticket's status events and public replies, asks :mod:`portal.sla.clock`, and
writes the ticket's SLA columns (the queue sorts on ``due_at``) and the per-target rows of
``ticket_sla`` with their alarms for :mod:`portal.sla.alerts`. When another policy starts to
apply (a priority change, another team …) the targets are computed again from the ticket's
start and the change is recorded as a ``sla_policy`` event.

The policies and calendars come from a per-process cache (``portal.tickets.cached``) checked
against the ``sla`` settings version on every change; triggers on ``sla_policy``,
``sla_calendar`` and ``sla_calendar_closure`` move that version, so an edit applies to the next
recompute in every process. A ticket being opened (``portal.tickets.service.opening``) has no
history yet and nobody else can see it: its targets are computed from the row just written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portal import db
from portal.sla import clock
from portal.sla.calendar import WEEKDAYS, Calendar, parse_ranges
from portal.sla.tables import BusinessCalendar, CalendarClosure, SlaPolicy, TicketSla
from portal.tickets import cached
from portal.tickets import service as tickets
from portal.tickets.rules import NEW, UNSOLVED, Actor
from portal.tickets.tables import Message, Ticket, TicketEvent
from portal.value.service import segment_of

DEFAULT_CALENDAR = "Mesai saatleri"  # the calendar `migrate`/demo make: Mon–Fri 09:00–18:00 Istanbul


def utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


# --- calendars ------------------------------------------------------------------------------------

def to_calendar(row: dict, closures: list[dict] | tuple = ()) -> Calendar:
    """The pure calendar of a ``sla_calendar`` row (hours already validated when saved)."""
    week = tuple(parse_ranges(row[day] or "") for day in WEEKDAYS)
    return Calendar(week=week, tz=row["timezone"], always_open=row["always_open"],
                    public_holidays=row["public_holidays"],
                    closures=tuple(sorted((utc(c["starts_at"]), utc(c["ends_at"])) for c in closures)))


async def calendar(calendar_id: int) -> Calendar | None:
    row = await BusinessCalendar.select().where(BusinessCalendar.id == calendar_id).first()
    if row is None:
        return None
    closures = await CalendarClosure.select(CalendarClosure.starts_at, CalendarClosure.ends_at).where(
        CalendarClosure.calendar == calendar_id)
    return to_calendar(row, closures)


async def cached_calendar(calendar_id: int) -> Calendar | None:
    """:func:`calendar`, from the per-process cache while the ``sla`` version stays."""
    return await cached.get("sla", ("calendar", calendar_id), lambda: calendar(calendar_id))


async def ensure_default_calendar(*, now: datetime) -> int:
    """The default calendar (Mon–Fri 09:00–18:00 Europe/Istanbul, Turkish holidays); made once."""
    row = await BusinessCalendar.select(BusinessCalendar.id).where(
        BusinessCalendar.is_default == True).first()  # noqa: E712
    if row:
        return row["id"]
    async with db.transaction():
        rows = await BusinessCalendar.insert(BusinessCalendar(
            name=DEFAULT_CALENDAR, timezone="Europe/Istanbul", is_default=True, created_at=now,
        )).returning(BusinessCalendar.id)
    return rows[0]["id"]


# --- policies -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Facts:
    """What a policy can match on."""

    priority: str
    team_id: int | None
    form_slug: str | None
    channel: str
    segment: str | None


def matches(policy: dict, facts: Facts) -> bool:
    checks = (
        ("priorities", facts.priority),
        ("team_ids", str(facts.team_id) if facts.team_id is not None else None),
        ("form_slugs", facts.form_slug),
        ("channels", facts.channel),
        ("segments", facts.segment),
    )
    for column, value in checks:
        wanted = split(policy[column])
        if wanted and value not in wanted:
            return False
    return True


def choose(policies: list[dict], facts: Facts) -> dict | None:
    """The first active policy, in order, that matches."""
    return next((p for p in policies if p["active"] and matches(p, facts)), None)


def targets_of(policy: dict) -> clock.Targets:
    return clock.Targets(first_response=policy["first_response_minutes"],
                         next_response=policy["next_response_minutes"],
                         resolution=policy["resolution_minutes"], warn_percent=policy["warn_percent"],
                         pause_on_hold=policy["pause_on_hold"])


async def policies() -> list[dict]:
    return await SlaPolicy.select().order_by(SlaPolicy.position).order_by(SlaPolicy.id)


async def cached_policies() -> list[dict]:
    """:func:`policies`, from the per-process cache while the ``sla`` version stays. Read-only."""

    async def load() -> list[dict]:
        return await db.fetch_all("SELECT * FROM sla_policy ORDER BY position, id")

    return await cached.get("sla", "policies", load)


# --- the listener ---------------------------------------------------------------------------------

async def history(ticket: dict) -> clock.History:
    statuses = await TicketEvent.select(TicketEvent.created_at, TicketEvent.new).where(
        (TicketEvent.ticket == ticket["id"]) & (TicketEvent.field == "status")).order_by(TicketEvent.id)
    messages = await Message.select(Message.id, Message.created_at, Message.author_kind).where(
        (Message.ticket == ticket["id"]) & (Message.public == True)  # noqa: E712
    ).order_by(Message.id)
    replies = tuple((m["created_at"], m["author_kind"]) for m in messages[1:]  # [0]: the request itself
                    if m["author_kind"] in ("customer", "staff"))
    return clock.History(start=ticket["created_at"], statuses=tuple((e["created_at"], e["new"]) for e in statuses),
                         replies=replies)


async def _lock(ticket_id: int) -> None:
    """On PostgreSQL, hold the ticket row: the alarm job claims a ticket's rows together with
    the ticket row (SKIP LOCKED), so it never announces from a state this change replaces."""
    if not db.is_sqlite():
        await Ticket.raw("SELECT id FROM ticket WHERE id = {} FOR UPDATE", ticket_id)


_SET_TICKET = (
    "UPDATE ticket SET sla_policy_id = {}, first_response_due_at = {}, next_response_due_at = {}, "
    "resolution_due_at = {}, next_response_met_at = {}, sla_paused_at = {}, sla_breached = {}, due_at = {} "
    "WHERE id = {}")


async def recompute(ticket_id: int, now: datetime, *, policy_list: list[dict] | None = None) -> clock.SlaState | None:
    """Recompute one ticket's SLA (call inside the change's transaction)."""
    opening = tickets.opening(ticket_id)
    # Just inserted in this transaction, still new: no status events, no replies, no SLA rows,
    # and no other transaction can see it (nothing to lock).
    fresh = opening is not None and opening.ticket["status"] == NEW
    if fresh:
        ticket = opening.ticket  # type: ignore[union-attr]
    else:
        await _lock(ticket_id)
        ticket = await db.fetch_one("SELECT * FROM ticket WHERE id = {}", ticket_id)
        if ticket is None:
            return None
    policy_list = await cached_policies() if policy_list is None else policy_list
    seg = await segment_of(ticket["requester"]) if any(split(p["segments"]) for p in policy_list) else None
    policy = choose(policy_list, Facts(ticket["priority"], ticket["team"], ticket["form_slug"], ticket["channel"],
                                       seg))
    cal = await cached_calendar(policy["calendar"]) if policy else None
    if policy is None or cal is None:
        if not fresh:  # a fresh ticket has no SLA rows or columns to clear
            await _clear(ticket)
        return None
    hist = clock.History(start=ticket["created_at"], statuses=(), replies=()) if fresh else await history(ticket)
    state = clock.state(hist, targets_of(policy), cal, now)
    await _write_rows(ticket_id, policy["id"], state, now, existing={} if fresh else None)
    await db.fetch_all(
        _SET_TICKET, policy["id"], utc(state.targets["first_response"].due_at),
        utc(state.targets["next_response"].due_at), utc(state.targets["resolution"].due_at),
        utc(state.targets["next_response"].met_at), utc(state.paused_since), state.breached, utc(state.due_at),
        ticket_id)
    if ticket["sla_policy_id"] != policy["id"]:
        old = next((p for p in policy_list if p["id"] == ticket["sla_policy_id"]), None) if (
            ticket["sla_policy_id"]) else None
        if old is None and ticket["sla_policy_id"]:  # not in the list given: read it (None if deleted)
            old = await SlaPolicy.select(SlaPolicy.name).where(SlaPolicy.id == ticket["sla_policy_id"]).first()
        await tickets.events(ticket_id, [(Actor.system(), "sla_policy", old["name"] if old else "", policy["name"])],
                             now)
    return state


async def _clear(ticket: dict) -> None:
    await TicketSla.delete().where(TicketSla.ticket == ticket["id"])
    if ticket["sla_policy_id"] is not None or ticket["due_at"] is not None:
        await Ticket.update({
            Ticket.sla_policy_id: None, Ticket.first_response_due_at: None, Ticket.next_response_due_at: None,
            Ticket.resolution_due_at: None, Ticket.next_response_met_at: None, Ticket.sla_paused_at: None,
            Ticket.sla_breached: False, Ticket.due_at: None,
        }).where(Ticket.id == ticket["id"])


def alarms(target: clock.TargetState, *, stopped: bool, warned: bool, breached: bool) -> tuple[datetime | None,
                                                                                                 datetime | None]:
    """(next_warn_at, next_breach_at) for a target: a warning while it runs and was not yet
    given; a breach announcement once, also for a target met late before the job saw it."""
    running = target.met_at is None and not target.paused and not stopped and target.due_at is not None
    warn = target.warn_at if running and not warned else None
    late = target.met_at is not None and target.due_at is not None and target.met_at > target.due_at
    breach = target.due_at if not breached and (running or late) else None
    return utc(warn), utc(breach)


_SLA_ROW = "(" + ", ".join(["{}"] * 15) + ")"


async def _write_rows(ticket_id: int, policy_id: int, state: clock.SlaState, now: datetime, *,
                      existing: dict[str, dict] | None = None) -> None:
    """``existing``: the ticket's rows by target when the caller knows them ({} for a new ticket)."""
    if existing is None:
        existing = {r["target"]: r for r in await TicketSla.select().where(TicketSla.ticket == ticket_id)}
    new_rows: list[list] = []
    columns: list[str] = []
    for name, t in state.targets.items():
        old = existing.get(name)
        if not t.active:
            if old:
                await TicketSla.delete().where(TicketSla.id == old["id"])
            continue
        same_cycle = old is not None and utc(old["start_at"]) == utc(t.start)
        warned_at = old["warned_at"] if same_cycle else None
        breached_at = old["breached_at"] if same_cycle else None
        next_warn, next_breach = alarms(t, stopped=state.stopped, warned=warned_at is not None,
                                        breached=breached_at is not None)
        values = {
            TicketSla.policy_id: policy_id, TicketSla.minutes: t.minutes, TicketSla.start_at: utc(t.start),
            TicketSla.due_at: utc(t.due_at), TicketSla.warn_at: utc(t.warn_at), TicketSla.met_at: utc(t.met_at),
            TicketSla.paused: t.paused, TicketSla.elapsed_seconds: int((t.elapsed or timedelta(0)).total_seconds()),
            TicketSla.warned_at: warned_at, TicketSla.breached_at: breached_at,
            TicketSla.next_warn_at: next_warn, TicketSla.next_breach_at: next_breach, TicketSla.updated_at: now,
        }
        if old:
            await TicketSla.update(values).where(TicketSla.id == old["id"])
        else:
            new_rows.append([ticket_id, name, *values.values()])
            columns = [c._meta.db_column_name for c in values]
    if new_rows:  # in one INSERT, in the targets' order
        await db.fetch_all(
            "INSERT INTO ticket_sla (ticket, target, " + ", ".join(columns) + ") "
            "VALUES " + ", ".join([_SLA_ROW] * len(new_rows)), *[v for row in new_rows for v in row])


@tickets.on_change
async def _on_ticket_change(ticket_id: int, what: str, now: datetime) -> None:
    await recompute(ticket_id, now)


async def recompute_open(now: datetime, *, batch: int = 200) -> int:
    """Recompute every unsolved ticket (after a policy or calendar changed), a batch per
    transaction. Returns how many were recomputed."""
    done, after = 0, 0
    policy_list = await policies()
    while True:
        ids = await Ticket.select(Ticket.id).where(Ticket.status.is_in(list(UNSOLVED)) & (Ticket.id > after)).order_by(
            Ticket.id).limit(batch).output(as_list=True)
        if not ids:
            return done
        async with db.transaction():
            for tid in ids:
                await recompute(tid, now, policy_list=policy_list)
        done += len(ids)
        after = ids[-1]


async def targets_for(ticket_id: int) -> dict[str, dict]:
    """The ``ticket_sla`` rows of one ticket, by target (for the staff ticket page)."""
    return {r["target"]: r for r in await TicketSla.select().where(TicketSla.ticket == ticket_id)}
