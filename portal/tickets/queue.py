"""The staff queue: views, filters, sorting and keyset pagination.

The default order is "nearest due time first" (the SLA clock keeps ``due_at``: the nearest
due time of the targets not yet met), tickets without one after those, oldest first. Pages
are keyset-paginated: the cursor is the last row's sort key, so a page costs the same at any
depth and rows do not repeat or vanish while new tickets arrive.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from portal.i18n import N_, email_key, search_fold
from portal.tags import service as tags
from portal.tickets.present import sla_summary
from portal.tickets.rules import (
    CHANNELS,
    ON_HOLD,
    PENDING,
    PRIORITIES,
    SOLVED,
    STATUSES,
    UNSOLVED,
    parse_ref,
    ref,
)
from portal.tickets.tables import Ticket

PAGE_SIZE = 25
VIEWS = {
    "all_open": N_("All open"),
    "mine": N_("Mine"),
    "unassigned": N_("Unassigned"),
    "my_teams": N_("My teams"),
    "pending": N_("Pending"),
    "on_hold": N_("On hold"),
    "solved_today": N_("Solved today"),
    "breaching_soon": N_("Breaching soon"),
}
SORTS = {"due": N_("Nearest due time"), "newest": N_("Newest first"), "updated": N_("Recently updated")}

_COLUMNS = (
    Ticket.id, Ticket.number, Ticket.subject, Ticket.status, Ticket.priority, Ticket.channel, Ticket.team,
    Ticket.assignee, Ticket.created_at, Ticket.updated_at, Ticket.due_at, Ticket.first_response_due_at,
    Ticket.resolution_due_at, Ticket.sla_breached, Ticket.sla_paused_at,
    Ticket.requester.id.as_alias("requester_id"), Ticket.requester.name.as_alias("requester_name"),
    Ticket.requester.email.as_alias("requester_email"), Ticket.team.name_tr.as_alias("team_name_tr"),
    Ticket.team.name_en.as_alias("team_name_en"), Ticket.assignee.name.as_alias("assignee_name"),
)


@dataclass
class Filters:
    view: str = "all_open"
    status: str = ""
    priority: str = ""
    team: int | None = None
    assignee: str = ""  # "" any, "none" unassigned, or a staff id
    tag: str = ""
    channel: str = ""
    q: str = ""
    sort: str = "due"

    def clean(self) -> Filters:
        """Unknown values become "no filter" (a hand-edited URL never errors)."""
        self.view = self.view if self.view in VIEWS else "all_open"
        self.status = self.status if self.status in STATUSES else ""
        self.priority = self.priority if self.priority in PRIORITIES else ""
        self.channel = self.channel if self.channel in CHANNELS else ""
        self.assignee = self.assignee if self.assignee == "none" or self.assignee.isdigit() else ""
        self.sort = self.sort if self.sort in SORTS else "due"
        self.q = self.q.strip()[:200]
        self.tag = tags.clean(self.tag)
        return self


@dataclass
class Page:
    rows: list[dict] = field(default_factory=list)
    next_cursor: str | None = None


def _start_of_day(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _view_where(view: str, *, staff_id: int, team_ids: set[int], now: datetime, tz: ZoneInfo):
    # Literal values (our constants, never input): PostgreSQL can then match the partial index
    # ``ticket_open_due`` even in a generic prepared-statement plan.
    unsolved = WhereRaw("ticket.status IN (" + ", ".join(f"'{s}'" for s in UNSOLVED) + ")")
    if view == "mine":
        return unsolved & (Ticket.assignee == staff_id)
    if view == "unassigned":
        return unsolved & Ticket.assignee.is_null()
    if view == "my_teams":
        return unsolved & Ticket.team.is_in(sorted(team_ids) or [0])
    if view == "pending":
        return Ticket.status == PENDING
    if view == "on_hold":
        return Ticket.status == ON_HOLD
    if view == "breaching_soon":
        # Past a target's warning threshold, not yet due, clock running (``portal.sla`` rows).
        return unsolved & WhereRaw(
            "ticket.due_at > {} AND EXISTS (SELECT 1 FROM ticket_sla s WHERE s.ticket = ticket.id "
            "AND s.met_at IS NULL AND s.paused = {} AND s.warn_at <= {} AND s.due_at > {})", now, False, now, now)
    if view == "solved_today":
        start = _start_of_day(now, tz)
        end = start + timedelta(days=1)
        return (Ticket.status == SOLVED) & (Ticket.solved_at >= start) & (Ticket.solved_at < end)
    return unsolved


def _words_where(q: str):
    """``T-1042`` finds that ticket, an e-mail address the requester's tickets, anything
    else the subjects containing every word (Turkish-aware: ``İADE`` finds ``iade``)."""
    number = parse_ref(q)
    if number is not None:
        return Ticket.number == number
    if "@" in q and " " not in q:
        return Ticket.requester.email_key == email_key(q)
    where = None
    for word in search_fold(q).split()[:8]:
        pattern = "%" + word.replace("\\", "").replace("%", "").replace("_", "") + "%"
        clause = Ticket.subject_key.like(pattern)
        where = clause if where is None else where & clause
    return where


def encode_cursor(row: dict, sort: str) -> str:
    if sort == "due":
        raw = f"d|{row['due_at'].isoformat() if row['due_at'] else ''}|{row['id']}"
    elif sort == "updated":
        raw = f"u|{row['updated_at'].isoformat()}|{row['id']}"
    else:
        raw = f"n||{row['id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: str) -> tuple[datetime | None, int] | None:
    if not cursor:
        return None
    try:
        kind, when, ident = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        if kind != sort[0] or not ident.isdigit():
            return None
        return (datetime.fromisoformat(when) if when else None), int(ident)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _after(sort: str, key: tuple[datetime | None, int]) -> WhereRaw:
    when, ident = key
    if sort == "newest":
        return WhereRaw("ticket.id < {}", ident)
    if sort == "updated":
        return WhereRaw("(ticket.updated_at < {} OR (ticket.updated_at = {} AND ticket.id < {}))",
                        when, when, ident)
    if when is None:  # already among the tickets without a due time
        return WhereRaw("(ticket.due_at IS NULL AND ticket.id > {})", ident)
    return WhereRaw("(ticket.due_at > {} OR (ticket.due_at = {} AND ticket.id > {}) "
                    "OR ticket.due_at IS NULL)", when, when, ident)


async def queue(filters: Filters, *, staff_id: int, team_ids: set[int], now: datetime, tz: ZoneInfo,
                cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    f = filters.clean()
    query = Ticket.select(*_COLUMNS).where(_view_where(f.view, staff_id=staff_id, team_ids=team_ids, now=now,
                                                       tz=tz))
    if f.status:
        query = query.where(Ticket.status == f.status)
    if f.priority:
        query = query.where(Ticket.priority == f.priority)
    if f.channel:
        query = query.where(Ticket.channel == f.channel)
    if f.team is not None:
        query = query.where(Ticket.team == f.team)
    if f.assignee == "none":
        query = query.where(Ticket.assignee.is_null())
    elif f.assignee:
        query = query.where(Ticket.assignee == int(f.assignee))
    if f.tag:
        query = query.where(tags.with_tag_where("ticket", f.tag, "ticket.id"))
    if f.q and (words := _words_where(f.q)) is not None:
        query = query.where(words)
    key = decode_cursor(cursor, f.sort)
    if key is not None:
        query = query.where(_after(f.sort, key))
    if f.sort == "newest":
        query = query.order_by(Ticket.id, ascending=False)
    elif f.sort == "updated":
        query = query.order_by(Ticket.updated_at, Ticket.id, ascending=False)
    else:
        query = query.order_by(QueryString('"ticket"."due_at" ASC NULLS LAST, "ticket"."id"'))
    rows = await query.limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    labels = await tags.of("ticket", [r["id"] for r in rows])
    for row in rows:
        row["ref"] = ref(row["number"])
        row["tags"] = labels.get(row["id"], [])
        row["sla"] = sla_summary(row, now)
    return Page(rows=rows, next_cursor=encode_cursor(rows[-1], f.sort) if more and rows else None)
