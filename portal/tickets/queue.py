"""The staff queue: views, filters, sorting and keyset pagination.

The default order is "nearest due time first" (the SLA clock keeps ``due_at``: the nearest
due time of the targets not yet met), tickets without one after those, oldest first. Pages
are keyset-paginated: the cursor is the last row's sort key, so a page costs the same at any
depth and rows do not repeat or vanish while new tickets arrive.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from portal import db
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

# The page query is prebuilt SQL (``db.fetch_all``): Piccolo's query builder cost more than the
# query itself (0.3-0.7 ms per page). Only our own fragments are joined into the SQL; every
# value (filters, cursor, ``now``) is a bound ``{}`` parameter.
_SELECT = (
    'SELECT "ticket"."id" AS "id", "ticket"."number" AS "number", "ticket"."subject" AS "subject", '
    '"ticket"."status" AS "status", "ticket"."priority" AS "priority", "ticket"."channel" AS "channel", '
    '"ticket"."team" AS "team", "ticket"."assignee" AS "assignee", "ticket"."created_at" AS "created_at", '
    '"ticket"."updated_at" AS "updated_at", "ticket"."due_at" AS "due_at", '
    '"ticket"."first_response_due_at" AS "first_response_due_at", '
    '"ticket"."resolution_due_at" AS "resolution_due_at", "ticket"."sla_breached" AS "sla_breached", '
    '"ticket"."sla_paused_at" AS "sla_paused_at", "requester"."id" AS "requester_id", '
    '"requester"."name" AS "requester_name", "requester"."email" AS "requester_email", '
    '"team"."name_tr" AS "team_name_tr", "team"."name_en" AS "team_name_en", '
    '"assignee"."name" AS "assignee_name" '
    'FROM "ticket" LEFT JOIN "customer" "requester" ON ("ticket"."requester" = "requester"."id") '
    'LEFT JOIN "team" "team" ON ("ticket"."team" = "team"."id") '
    'LEFT JOIN "staff_user" "assignee" ON ("ticket"."assignee" = "assignee"."id")'
)
_ORDER = {
    "newest": ' ORDER BY "ticket"."id" DESC',
    "updated": ' ORDER BY "ticket"."updated_at" DESC, "ticket"."id" DESC',
    "due": ' ORDER BY "ticket"."due_at" ASC NULLS LAST, "ticket"."id" ASC',
}
# Literal values (our constants, never input): PostgreSQL can then match the partial index
# ``ticket_open_due`` even in a generic prepared-statement plan.
_UNSOLVED = "ticket.status IN (" + ", ".join(f"'{s}'" for s in UNSOLVED) + ")"
# The page's tag names (``portal.tags.service.of``, by ``name_key``) in the same query: a correlated
# subquery on the page's rows only (the page query is wrapped, so it never runs for the rows a sort
# looks at). json_group_array has no ORDER BY before SQLite 3.44: SQLite gives (key, name) pairs,
# sorted in Python (its BINARY order is Python's); PostgreSQL sorts in the aggregate.
_TAG_SOURCE = ("FROM tagging JOIN tag ON tag.id = tagging.tag WHERE tagging.kind = 'ticket' "
               "AND tagging.object_id = q.id")
_TAGS = {
    True: f"(SELECT json_group_array(json_array(tag.name_key, tag.name)) {_TAG_SOURCE})",
    False: f"(SELECT json_agg(tag.name ORDER BY tag.name_key) {_TAG_SOURCE})",
}
_OUTER_ORDER = {sort: order.replace('"ticket".', "q.") for sort, order in _ORDER.items()}


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


def _view_where(view: str, *, staff_id: int, team_ids: set[int], now: datetime,
                tz: ZoneInfo) -> tuple[str, list[Any]]:
    """The view's WHERE clause (our SQL) and its bound values."""
    if view == "mine":
        return _UNSOLVED + ' AND "ticket"."assignee" = {}', [staff_id]
    if view == "unassigned":
        return _UNSOLVED + ' AND "ticket"."assignee" IS NULL', []
    if view == "my_teams":
        ids = sorted(team_ids) or [0]
        return _UNSOLVED + ' AND "ticket"."team" IN (' + ", ".join("{}" for _ in ids) + ")", ids
    if view == "pending":
        return '"ticket"."status" = {}', [PENDING]
    if view == "on_hold":
        return '"ticket"."status" = {}', [ON_HOLD]
    if view == "breaching_soon":
        # Past a target's warning threshold, not yet due, clock running (``portal.sla`` rows).
        return (_UNSOLVED + " AND ticket.due_at > {} AND EXISTS (SELECT 1 FROM ticket_sla s WHERE "
                "s.ticket = ticket.id AND s.met_at IS NULL AND s.paused = {} AND s.warn_at <= {} "
                "AND s.due_at > {})"), [now, False, now, now]
    if view == "solved_today":
        start = _start_of_day(now, tz)
        end = start + timedelta(days=1)
        return '"ticket"."status" = {} AND "ticket"."solved_at" >= {} AND "ticket"."solved_at" < {}', [
            SOLVED, start, end]
    return _UNSOLVED, []


def _words_where(q: str) -> tuple[str, list[Any]] | None:
    """``T-1042`` finds that ticket, an e-mail address the requester's tickets, anything
    else the subjects containing every word (Turkish-aware: ``İADE`` finds ``iade``)."""
    number = parse_ref(q)
    if number is not None:
        return '"ticket"."number" = {}', [number]
    if "@" in q and " " not in q:
        return '"requester"."email_key" = {}', [email_key(q)]
    patterns = ["%" + word.replace("\\", "").replace("%", "").replace("_", "") + "%"
                for word in search_fold(q).split()[:8]]
    if not patterns:
        return None
    return " AND ".join('"ticket"."subject_key" LIKE {}' for _ in patterns), patterns


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


def _after(sort: str, key: tuple[datetime | None, int]) -> tuple[str, list[Any]]:
    when, ident = key
    if sort == "newest":
        return "ticket.id < {}", [ident]
    if sort == "updated":
        return "(ticket.updated_at < {} OR (ticket.updated_at = {} AND ticket.id < {}))", [when, when, ident]
    if when is None:  # already among the tickets without a due time
        return "(ticket.due_at IS NULL AND ticket.id > {})", [ident]
    return ("(ticket.due_at > {} OR (ticket.due_at = {} AND ticket.id > {}) OR ticket.due_at IS NULL)",
            [when, when, ident])


def queue_sql(filters: Filters, *, staff_id: int, team_ids: set[int], now: datetime, tz: ZoneInfo,
              cursor: str | None = None, limit: int = PAGE_SIZE) -> tuple[str, list[Any]]:
    """The page query (``{}`` placeholders) and its values: one row more than ``limit``,
    which tells whether there is a next page. ``filters`` must be cleaned."""
    f = filters
    where, args = _view_where(f.view, staff_id=staff_id, team_ids=team_ids, now=now, tz=tz)
    clauses = [where]
    if f.status:
        clauses.append('"ticket"."status" = {}')
        args.append(f.status)
    if f.priority:
        clauses.append('"ticket"."priority" = {}')
        args.append(f.priority)
    if f.channel:
        clauses.append('"ticket"."channel" = {}')
        args.append(f.channel)
    if f.team is not None:
        clauses.append('"ticket"."team" = {}')
        args.append(f.team)
    if f.assignee == "none":
        clauses.append('"ticket"."assignee" IS NULL')
    elif f.assignee:
        clauses.append('"ticket"."assignee" = {}')
        args.append(int(f.assignee))
    if f.tag:
        clauses.append("ticket.id IN (SELECT tagging.object_id FROM tagging JOIN tag ON tag.id = tagging.tag "
                       "WHERE tagging.kind = {} AND tag.name_key = {})")
        args += ["ticket", tags.key(f.tag)]
    if f.q and (words := _words_where(f.q)) is not None:
        clauses.append(words[0])
        args += words[1]
    key = decode_cursor(cursor, f.sort)
    if key is not None:
        after, after_args = _after(f.sort, key)
        clauses.append(after)
        args += after_args
    page = (_SELECT + " WHERE " + " AND ".join(f"({c})" for c in clauses) + _ORDER[f.sort]
            + f" LIMIT {int(limit) + 1}")
    sql = f"SELECT q.*, {_TAGS[db.is_sqlite()]} AS tags_json FROM ({page}) q{_OUTER_ORDER[f.sort]}"
    return sql, args


def _tag_names(raw: str | None, sqlite: bool) -> list[str]:
    if not raw:
        return []
    names = json.loads(raw)
    return [name for _key, name in sorted(names)] if sqlite else names


async def queue(filters: Filters, *, staff_id: int, team_ids: set[int], now: datetime, tz: ZoneInfo,
                cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    f = filters.clean()
    sql, args = queue_sql(f, staff_id=staff_id, team_ids=team_ids, now=now, tz=tz, cursor=cursor, limit=limit)
    rows = await db.fetch_all(sql, *args)
    more = len(rows) > limit
    rows = rows[:limit]
    sqlite = db.is_sqlite()
    for row in rows:
        row["ref"] = ref(row["number"])
        row["tags"] = _tag_names(row.pop("tags_json"), sqlite)
        row["sla"] = sla_summary(row, now)
    return Page(rows=rows, next_cursor=encode_cursor(rows[-1], f.sort) if more and rows else None)
