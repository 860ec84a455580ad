"""Reading tickets, scoped by who asks: a customer gets only their own tickets and only
public messages; a guest only the ticket of their link. Someone else's ticket is simply not
found (404), never "forbidden", so nobody learns which numbers exist."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from portal import db
from portal.tickets import text
from portal.tickets.rules import parse_ref, ref
from portal.tickets.service import ticket_id_for_guest
from portal.tickets.tables import Attachment, Message, Ticket, TicketEvent
from portal.value.service import segment_label

CUSTOMER_PAGE = 50

_DETAIL = (
    Ticket.requester.name.as_alias("requester_name"), Ticket.requester.email.as_alias("requester_email"),
    Ticket.requester.phone.as_alias("requester_phone"), Ticket.requester.locale.as_alias("requester_locale"),
    Ticket.team.slug.as_alias("team_slug"), Ticket.team.name_tr.as_alias("team_name_tr"),
    Ticket.team.name_en.as_alias("team_name_en"), Ticket.assignee.name.as_alias("assignee_name"),
    Ticket.assignee.email.as_alias("assignee_email"), Ticket.order.number.as_alias("order_number"),
    Ticket.follow_up_of.number.as_alias("follow_up_of_number"),
    Ticket.merged_into.number.as_alias("merged_into_number"),
)


def _decorate(row: dict | None) -> dict | None:
    if row is not None:
        row["ref"] = ref(row["number"])
    return row


# One ticket as ``Ticket.select(*Ticket.all_columns(), *_DETAIL)`` returns it, as prebuilt SQL: every
# ticket page reads one, and building that seven-table select cost more than running it.
_TICKET_COLUMNS = tuple(c._meta.db_column_name for c in Ticket._meta.columns)
_DETAIL_SQL = (
    "SELECT " + ", ".join(f'"ticket"."{c}" AS "{c}"' for c in _TICKET_COLUMNS) + ", "
    '"requester"."name" AS "requester_name", "requester"."email" AS "requester_email", '
    '"requester"."phone" AS "requester_phone", "requester"."locale" AS "requester_locale", '
    '"team"."slug" AS "team_slug", "team"."name_tr" AS "team_name_tr", "team"."name_en" AS "team_name_en", '
    '"assignee"."name" AS "assignee_name", "assignee"."email" AS "assignee_email", '
    '"order"."number" AS "order_number", "follow_up_of"."number" AS "follow_up_of_number", '
    '"merged_into"."number" AS "merged_into_number" '
    'FROM "ticket" LEFT JOIN "customer" "requester" ON ("ticket"."requester" = "requester"."id") '
    'LEFT JOIN "team" "team" ON ("ticket"."team" = "team"."id") '
    'LEFT JOIN "staff_user" "assignee" ON ("ticket"."assignee" = "assignee"."id") '
    'LEFT JOIN "orders" "order" ON ("ticket"."order" = "order"."id") '
    'LEFT JOIN "ticket" "follow_up_of" ON ("ticket"."follow_up_of" = "follow_up_of"."id") '
    'LEFT JOIN "ticket" "merged_into" ON ("ticket"."merged_into" = "merged_into"."id") WHERE '
)


async def _detail(where: str, *args: Any) -> dict | None:
    """``where``: our own SQL with ``{}`` placeholders for ``args``."""
    return _decorate(await db.fetch_one(_DETAIL_SQL + where + " LIMIT 1", *args))


async def ticket_for_customer(ticket_ref: str, customer_id: int) -> dict | None:
    number = parse_ref(ticket_ref)
    if number is None:
        return None
    return await _detail('"ticket"."number" = {} AND "ticket"."requester" = {}', number, customer_id)


async def ticket_for_guest(token: str) -> dict | None:
    ticket_id = await ticket_id_for_guest(token)
    return None if ticket_id is None else await _detail('"ticket"."id" = {}', ticket_id)


async def ticket_for_staff(ticket_ref: str) -> dict | None:
    number = parse_ref(ticket_ref)
    return None if number is None else await _detail('"ticket"."number" = {}', number)


async def ticket_by_id(ticket_id: int) -> dict | None:
    return await _detail('"ticket"."id" = {}', ticket_id)


async def customer_tickets(customer_id: int, *, before: int | None = None,
                           limit: int = CUSTOMER_PAGE) -> tuple[list[dict], int | None]:
    """The customer's tickets, newest first; returns (rows, the ``before`` of the next page)."""
    query = Ticket.select(Ticket.id, Ticket.number, Ticket.subject, Ticket.status, Ticket.created_at,
                          Ticket.updated_at).where(Ticket.requester == customer_id)
    if before is not None:
        query = query.where(Ticket.id < before)
    rows = await query.order_by(Ticket.id, ascending=False).limit(limit + 1)
    more = len(rows) > limit
    rows = [_decorate(r) for r in rows[:limit]]
    return rows, (rows[-1]["id"] if more else None)  # type: ignore[index]


_MESSAGE_COLUMNS = tuple(c._meta.db_column_name for c in Message._meta.columns)
# Messages oldest first, each with its attachments (a LEFT JOIN: one row per attachment).
_THREAD = (
    "SELECT " + ", ".join(f'"m"."{c}" AS "{c}"' for c in _MESSAGE_COLUMNS) + ', "a"."id" AS "a_id", '
    '"a"."filename" AS "a_filename", "a"."size" AS "a_size", "a"."content_type" AS "a_content_type" '
    'FROM "ticket_message" "m" LEFT JOIN "ticket_attachment" "a" ON ("a"."message" = "m"."id") '
    'WHERE "m"."ticket" = {}%s ORDER BY "m"."id", "a"."id"'
)
_THREAD_SQL = {True: _THREAD % "", False: _THREAD % ' AND "m"."public" = {}'}
_EVENTS = ("SELECT " + ", ".join(f'"{c._meta.db_column_name}"' for c in TicketEvent._meta.columns)
           + ' FROM "ticket_event" WHERE "ticket" = {} ORDER BY "id"')


async def thread(ticket_id: int, *, internal: bool) -> list[dict]:
    """Messages oldest first with their attachments; ``internal`` adds the notes (staff only)."""
    rows = await db.fetch_all(_THREAD_SQL[internal], *((ticket_id,) if internal else (ticket_id, True)))
    messages: list[dict] = []
    for row in rows:
        a_id = row.pop("a_id")
        a = {"id": a_id, "message": row["id"], "filename": row.pop("a_filename"), "size": row.pop("a_size"),
             "content_type": row.pop("a_content_type")}
        if not messages or messages[-1]["id"] != row["id"]:
            row["attachments"] = []
            row["body_html"] = text.body_html(row["body"])
            messages.append(row)
        if a_id is not None:
            messages[-1]["attachments"].append(a)
    return messages


async def events(ticket_id: int) -> list[dict]:
    return await db.fetch_all(_EVENTS, ticket_id)


async def attachment(ticket_id: int, attachment_id: int, *, internal: bool) -> dict | None:
    """One file of one ticket; without ``internal``, only files of public messages."""
    where = (Attachment.id == attachment_id) & (Attachment.ticket == ticket_id)
    if not internal:
        where &= Attachment.message.public == True  # noqa: E712
    return await Attachment.select(Attachment.id, Attachment.filename, Attachment.content_type,
                                   Attachment.size, Attachment.storage_key).where(where).first()


async def staff_attachment(attachment_id: int) -> dict | None:
    return await Attachment.select(Attachment.id, Attachment.filename, Attachment.content_type,
                                   Attachment.size, Attachment.storage_key).where(
        Attachment.id == attachment_id).first()


# --- choices for the staff forms ----------------------------------------------------------------
# Prebuilt SQL (``db.fetch_all``): on the queue and ticket pages Piccolo's query builder and one
# more round trip per list cost more than the lists themselves. ``staff_choices`` reads the
# agent's teams, every team, every active agent and (for the ticket page) the canned replies in
# ONE query; each part keeps its own order (``ORDER BY kind, a, b``: slug; name; language, title).

_TEAMS = 'SELECT "id", "slug", "name_tr", "name_en" FROM "team" ORDER BY "slug"'
_AGENTS = ('SELECT "id", "name", "email", "role" FROM "staff_user" WHERE "active" = {} '
           'ORDER BY "name", "email", "id"')
_TEAM_IDS = 'SELECT "team" FROM "team_member" WHERE "staff" = {}'
_CHOICES = (
    'SELECT 0 AS "kind", "team" AS "id", NULL AS "a", NULL AS "b", NULL AS "c", NULL AS "d" '
    'FROM "team_member" WHERE "staff" = {} '
    'UNION ALL SELECT 1, "id", "slug", "name_tr", "name_en", NULL FROM "team" '
    'UNION ALL SELECT 2, "id", "name", "email", "role", NULL FROM "staff_user" WHERE "active" = {}'
)
_CANNED = ' UNION ALL SELECT 3, "id", "language", "title", NULL, NULL FROM "canned_reply"'
_CHOICES_ORDER = ' ORDER BY 1, 3, 4, 2'


@dataclass
class Choices:
    """What the staff forms offer, and the agent's own teams."""

    team_ids: set[int]
    teams: list[dict]
    agents: list[dict]
    canned: list[dict]


async def staff_choices(staff_id: int, *, canned: bool = False) -> Choices:
    """The agent's team ids, :func:`teams`, :func:`agents` and (with ``canned``) the canned
    replies (id, title, language; language then title) in one query."""
    sql = _CHOICES + (_CANNED if canned else "") + _CHOICES_ORDER
    out = Choices(set(), [], [], [])
    for r in await db.fetch_all(sql, staff_id, True):
        kind = r["kind"]
        if kind == 0:
            out.team_ids.add(r["id"])
        elif kind == 1:
            out.teams.append({"id": r["id"], "slug": r["a"], "name_tr": r["b"], "name_en": r["c"]})
        elif kind == 2:
            out.agents.append({"id": r["id"], "name": r["a"], "email": r["b"], "role": r["c"]})
        else:
            out.canned.append({"id": r["id"], "title": r["b"], "language": r["a"]})
    return out


async def teams() -> list[dict]:
    return await db.fetch_all(_TEAMS)


async def agents() -> list[dict]:
    return await db.fetch_all(_AGENTS, True)


async def team_ids_of(staff_id: int) -> set[int]:
    return {r["team"] for r in await db.fetch_all(_TEAM_IDS, staff_id)}


async def other_tickets(customer_id: int, *, exclude: int | None = None, limit: int = 10) -> list[dict]:
    query = Ticket.select(Ticket.id, Ticket.number, Ticket.subject, Ticket.status, Ticket.created_at).where(
        Ticket.requester == customer_id)
    if exclude is not None:
        query = query.where(Ticket.id != exclude)
    return [_decorate(r) for r in await query.order_by(Ticket.id, ascending=False).limit(limit)]  # type: ignore[misc]


# --- the side panel of the staff ticket page ------------------------------------------------------
# The requester, their value row, their tags and the ticket's, their five latest orders, ten
# other tickets and the ticket's CSAT request: ONE query (joins for the single rows, correlated
# JSON subqueries for the lists) instead of seven. The rows are the same as
# ``tickets.customers.get``, ``value.service.value_of``, ``tags.service.of``,
# ``tickets.customers.orders``, :func:`other_tickets` and ``surveys.results.of_ticket`` return.
# json_group_array has no ORDER BY before SQLite 3.44: SQLite lists are sorted in Python (its
# BINARY order is Python's); PostgreSQL sorts in the aggregate (the database's collation).

_CUSTOMER_COLUMNS = ("id", "email", "name", "phone", "locale", "created_at", "email_verified_at", "last_login_at",
                     "deleted_at")
_VALUE_COLUMNS = ("id", "customer", "recency_days", "frequency", "monetary", "r", "f", "m", "segment",
                  "computed_at")
_SURVEY_COLUMNS = ("score", "comment", "answered_at", "sent_at", "changed_at")
_LIST = {
    True: "(SELECT json_group_array(json_array({fields})) FROM {source})",
    False: "(SELECT COALESCE(json_agg(json_build_array({fields}) ORDER BY {order}), '[]'::json) FROM {source})",
}


def _panel_sql(sqlite: bool) -> str:
    def listing(fields: str, source: str, order: str) -> str:
        return _LIST[sqlite].format(fields=fields, source=source, order=order)

    tags = ('tagging JOIN tag ON tag.id = tagging.tag WHERE tagging.kind = \'{kind}\' '
            'AND tagging.object_id = {{}}')
    return (
        "SELECT " + ", ".join(f'c."{c}" AS "{c}"' for c in _CUSTOMER_COLUMNS) + ", "
        + ", ".join(f'v."{c}" AS "v_{c}"' for c in _VALUE_COLUMNS) + ", sr.id AS s_id, "
        + ", ".join(f'sr."{c}" AS "s_{c}"' for c in _SURVEY_COLUMNS) + ", sa.name AS s_agent_name, "
        + listing("tag.name_key, tag.name", tags.format(kind="customer"), "tag.name_key") + " AS customer_tags, "
        + listing("tag.name_key, tag.name", tags.format(kind="ticket"), "tag.name_key") + " AS ticket_tags, "
        + listing("o.id, o.number, o.status, o.total, o.currency, o.placed_at",
                  '(SELECT * FROM orders WHERE customer = {} ORDER BY placed_at DESC, id DESC LIMIT 5) o',
                  "o.placed_at DESC, o.id DESC") + " AS orders, "
        + listing("t.id, t.number, t.subject, t.status, t.created_at",
                  "(SELECT * FROM ticket WHERE requester = {} AND id <> {} ORDER BY id DESC LIMIT 10) t",
                  "t.id DESC") + " AS tickets "
        "FROM customer c LEFT JOIN customer_value v ON v.customer = c.id "
        "LEFT JOIN survey_request sr ON sr.ticket = {} LEFT JOIN staff_user sa ON sa.id = sr.agent "
        "WHERE c.id = {}"
    )


_PANEL_SQL = {sqlite: _panel_sql(sqlite) for sqlite in (True, False)}


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    stamp = datetime.fromisoformat(value)
    # As Piccolo reads SQLite: a stamp stored without an offset (raw SQL, CURRENT_TIMESTAMP) is UTC.
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _listed(raw: str | list) -> list[list]:
    return json.loads(raw, parse_float=Decimal) if isinstance(raw, str) else raw


def _tag_names(raw: str | list, sqlite: bool) -> list[str]:
    pairs = _listed(raw)
    return [name for _key, name in (sorted(pairs) if sqlite else pairs)]


async def customer_panel(customer_id: int, ticket_id: int) -> dict:
    """What the side panel shows: ``requester`` (None if the customer is gone, and then every list
    is empty), ``customer_value``, ``customer_tags``, ``ticket_tags``, ``customer_orders``,
    ``other_tickets`` and ``satisfaction`` (the CSAT request or None)."""
    sqlite = db.is_sqlite()
    row = await db.fetch_one(_PANEL_SQL[sqlite], customer_id, ticket_id, customer_id, customer_id, ticket_id,
                             ticket_id, customer_id)
    if row is None:
        return {"requester": None, "customer_value": None, "customer_tags": [], "ticket_tags": [],
                "customer_orders": [], "other_tickets": [], "satisfaction": None}
    value = None
    if row["v_id"] is not None:
        value = {c: row[f"v_{c}"] for c in _VALUE_COLUMNS}
        value["segment_label"] = segment_label(value["segment"])
    survey = None
    if row["s_id"] is not None:
        survey = {c: row[f"s_{c}"] for c in _SURVEY_COLUMNS}
        survey["agent_name"] = row["s_agent_name"]
    orders = [{"id": i, "number": n, "status": st, "total": Decimal(str(total)), "currency": cur,
               "placed_at": _when(at)} for i, n, st, total, cur, at in _listed(row["orders"])]
    tickets = [_decorate({"id": i, "number": n, "subject": subj, "status": st, "created_at": _when(at)})
               for i, n, subj, st, at in _listed(row["tickets"])]
    if sqlite:
        orders.sort(key=lambda o: (o["placed_at"], o["id"]), reverse=True)
        tickets.sort(key=lambda t: t["id"], reverse=True)  # type: ignore[index]
    return {
        "requester": {c: row[c] for c in _CUSTOMER_COLUMNS},
        "customer_value": value,
        "customer_tags": _tag_names(row["customer_tags"], sqlite),
        "ticket_tags": _tag_names(row["ticket_tags"], sqlite),
        "customer_orders": orders,
        "other_tickets": tickets,
        "satisfaction": survey,
    }


# --- the API's list ---------------------------------------------------------------------------------

async def api_list(*, status: str | None, team_id: int | None, updated_since: Any, before_id: int | None,
                   limit: int) -> tuple[list[dict], int | None]:
    """Newest first (by id: a stable order for the cursor); returns (rows, next ``before_id``)."""
    query = Ticket.select(*Ticket.all_columns(), *_DETAIL)
    if status:
        query = query.where(Ticket.status == status)
    if team_id is not None:
        query = query.where(Ticket.team == team_id)
    if updated_since is not None:
        query = query.where(Ticket.updated_at >= updated_since)
    if before_id is not None:
        query = query.where(Ticket.id < before_id)
    rows = await query.order_by(Ticket.id, ascending=False).limit(limit + 1)
    more = len(rows) > limit
    rows = [_decorate(r) for r in rows[:limit]]  # type: ignore[misc]
    return rows, (rows[-1]["id"] if more else None)
