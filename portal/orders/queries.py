"""Reading orders, always scoped by who asks: a customer's own, a guest's by number *and*
e-mail, or any for staff. Someone else's order is simply not found (404), never "forbidden".

Lists use keyset pagination on ``(placed_at, id)``, newest first: a page costs the same at
order 100,000 as at order 10, and new orders arriving meanwhile do not shift the pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from piccolo.columns.combination import Where

from portal import db
from portal.i18n import email_key, search_fold
from portal.orders import carriers
from portal.orders.service import CENT, CUSTOMER_EVENT_KINDS, FLOW
from portal.orders.tables import Order

PAGE_SIZE = 20

_LIST = (Order.id, Order.number, Order.status, Order.total, Order.currency, Order.placed_at, Order.carrier)
_STAFF_LIST = (*_LIST, Order.email, Order.customer_name, Order.phone)

# One order with its items and timeline in ONE query (two correlated JSON subqueries): on a
# page that already costs a session read and a customer lookup, every extra round trip to the
# database (a thread hand-off on SQLite) is a large share of the request.
_PUBLIC_COLUMNS = ("id", "number", "status", "total", "currency", "placed_at", "carrier", "tracking_number",
                   "estimated_delivery", "updated_at")
_OWNER_COLUMNS = (*_PUBLIC_COLUMNS, "email", "customer_name", "phone", "shipping_address")
_STAFF_COLUMNS = (*_OWNER_COLUMNS, "customer", "created_at")
_ITEM_FIELDS = ("position", "sku", "name", "quantity", "unit_price")
_EVENT_FIELDS = ("id", "kind", "status", "note", "carrier", "tracking_number", "actor", "created_at")
_CUSTOMER_KINDS = ", ".join(f"'{k}'" for k in CUSTOMER_EVENT_KINDS)


# json_group_array has no ORDER BY before SQLite 3.44: rows are sorted in Python instead.
_AGGREGATE = {
    True: "(SELECT json_group_array(json_object({pairs})) FROM {source})",
    False: "(SELECT COALESCE(json_agg(json_build_object({pairs})), '[]'::json) FROM {source})",
}


def _detail_sql(columns: tuple[str, ...], where: str, *, staff: bool, sqlite: bool) -> str:
    def aggregate(fields: tuple[str, ...], source: str) -> str:
        return _AGGREGATE[sqlite].format(pairs=", ".join(f"'{f}', {f}" for f in fields), source=source)

    kinds = "" if staff else f" AND kind IN ({_CUSTOMER_KINDS})"
    items = aggregate(_ITEM_FIELDS, 'order_item WHERE "order" = o.id')
    events = aggregate(_EVENT_FIELDS, f'order_event WHERE "order" = o.id{kinds}')
    select = ", ".join(f"o.{c}" for c in columns)
    return f"SELECT {select}, {items} AS items_json, {events} AS events_json FROM orders o WHERE {where}"  # noqa: S608


_SCOPES = {
    # name: (columns, WHERE with {} placeholders, staff view)
    "customer": (_OWNER_COLUMNS, "o.number = {} AND o.customer = {}", False),
    "guest": (_PUBLIC_COLUMNS, "o.number IN ({}, {}) AND o.email_key = {}", False),
    "staff": (_STAFF_COLUMNS, "o.number = {}", True),
}
_SQL = {(name, sqlite): _detail_sql(cols, where, staff=staff, sqlite=sqlite)
        for name, (cols, where, staff) in _SCOPES.items() for sqlite in (True, False)}


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    next_cursor: str | None


def _decorate(row: dict) -> dict:
    """Values the templates and the API show: money as exact Decimals, UTC times, the carrier's
    name and tracking link."""
    row["total"] = Decimal(row["total"]).quantize(CENT)
    for key in ("placed_at", "updated_at", "created_at"):
        if isinstance(row.get(key), datetime):
            row[key] = _utc(row[key])
    if "carrier" in row:
        row["carrier_name"] = carriers.display_name(row["carrier"])
        row["tracking_url"] = carriers.tracking_url(row["carrier"], row.get("tracking_number") or "")
    return row


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _time(value: str | datetime) -> datetime:
    return _utc(value if isinstance(value, datetime) else datetime.fromisoformat(value))


def _as_date(value: str | date | None) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


async def _detail(scope: str, *args: object) -> dict | None:
    # db.fetch_all, not Order.raw: the same rows without building a Piccolo query (and on
    # SQLite, read in the event loop's thread like the session's user, see portal/db.py).
    rows = await db.fetch_all(_SQL[(scope, db.is_sqlite())], *args)
    if not rows:
        return None
    order = rows[0]
    items = sorted(json.loads(order.pop("items_json"), parse_float=Decimal), key=lambda i: i["position"])
    for item in items:
        item["unit_price"] = Decimal(str(item["unit_price"])).quantize(CENT)
        item["line_total"] = item["unit_price"] * item["quantity"]
    events = sorted(json.loads(order.pop("events_json")), key=lambda e: e["id"])
    for event in events:
        event["created_at"] = _time(event["created_at"])
        event["carrier_name"] = carriers.display_name(event["carrier"])
    order["placed_at"], order["updated_at"] = _time(order["placed_at"]), _time(order["updated_at"])
    if "created_at" in order:
        order["created_at"] = _time(order["created_at"])
    order["estimated_delivery"] = _as_date(order["estimated_delivery"])
    order["items"], order["events"] = items, events
    return _decorate(order)


# --- one order (with ``items`` and ``events``) ------------------------------------------------------

async def order_for_customer(number: str, customer_id: int) -> dict | None:
    """The customer's own order; anyone else's is None (the page answers 404)."""
    return await _detail("customer", number, customer_id)


async def order_for_guest(number: str, email: str) -> dict | None:
    """The order with this number *and* e-mail (case-insensitive, Turkish İ/ı safe), without
    the address or phone. One query whichever of the two is wrong: the answers read the same."""
    number = number.strip()
    return await _detail("guest", number, number.upper(), email_key(email))


async def order_for_staff(number: str) -> dict | None:
    """Any order, with every timeline entry and who made it (staff pages and the API)."""
    return await _detail("staff", number)


def progress(status: str) -> list[tuple[str, str]]:
    """The usual steps with their state (``done``, ``current``, ``todo``) for the progress bar;
    empty when the order left the usual way (cancelled, returned…)."""
    if status not in FLOW:
        return []
    at = FLOW.index(status)
    return [(s, "done" if i < at else "current" if i == at else "todo") for i, s in enumerate(FLOW)]


# --- lists ----------------------------------------------------------------------------------------

def encode_cursor(row: dict) -> str:
    raw = f"{_utc(row['placed_at']).isoformat()}|{row['id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor or len(cursor) > 100:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _sep, ident = raw.partition("|")
        return _utc(datetime.fromisoformat(stamp)), int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def _before(cursor: tuple[datetime, int] | None) -> Where | None:
    if cursor is None:
        return None
    placed_at, ident = cursor
    return (Order.placed_at < placed_at) | ((Order.placed_at == placed_at) & (Order.id < ident))


async def _page(columns: tuple, where: Where | None, cursor: str | None, limit: int) -> Page:
    query = Order.select(*columns)
    conditions = [c for c in (where, _before(decode_cursor(cursor))) if c is not None]
    for condition in conditions:
        query = query.where(condition)
    rows = await query.order_by(Order.placed_at, Order.id, ascending=False).limit(limit + 1)
    more = len(rows) > limit
    rows = [_decorate(r) for r in rows[:limit]]
    return Page(rows, encode_cursor(rows[-1]) if more and rows else None)


async def orders_for_customer(customer_id: int, *, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    return await _page(_LIST, Order.customer == customer_id, cursor, limit)


async def search_for_staff(q: str = "", *, status: str = "", cursor: str | None = None,
                           limit: int = PAGE_SIZE) -> Page:
    """By number, or a part of the number, e-mail, name or phone (case- and accent-insensitive,
    Turkish-aware: ``IŞIK`` finds ``Işık``), optionally with one status."""
    where: Where | None = Order.status == status if status else None
    q = q.strip()[:200]
    if q:
        match = (Order.number == q) | Order.search_text.like(f"%{search_fold(q)}%")
        where = match if where is None else where & match
    return await _page(_STAFF_LIST, where, cursor, limit)
