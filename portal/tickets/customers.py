"""What staff see about one customer, and finding a customer while on the phone.

Notes are staff-only. Search matches an e-mail address, a phone number typed any way
(``0532 123 45 67``, ``+90 532…``: the last ten digits decide) or part of a name.
"""

from __future__ import annotations

import re
from datetime import datetime

from portal.accounts.tables import Customer
from portal.i18n import email_key
from portal.orders.tables import Order
from portal.tickets import text
from portal.tickets.rules import TicketError
from portal.tickets.tables import CustomerNote

_DIGITS = re.compile(r"\D+")
_COLUMNS = (Customer.id, Customer.email, Customer.name, Customer.phone, Customer.locale, Customer.created_at,
            Customer.email_verified_at, Customer.last_login_at, Customer.deleted_at)


async def get(customer_id: int) -> dict | None:
    return await Customer.select(*_COLUMNS).where(Customer.id == customer_id).first()


def _like(value: str) -> str:
    return value.replace("\\", "").replace("%", "").replace("_", "")


async def search(q: str, *, limit: int = 8) -> list[dict]:
    q = (q or "").strip()[:100]
    if len(q) < 2:
        return []
    query = Customer.select(Customer.id, Customer.email, Customer.name, Customer.phone).where(
        Customer.deleted_at.is_null())
    digits = _DIGITS.sub("", q)
    if len(digits) >= 4 and len(digits) >= len(q.replace(" ", "")) - 2:
        query = query.where(Customer.phone.like("%" + _like(digits[-10:]) + "%"))
    elif "@" in q:
        query = query.where(Customer.email_key.like(_like(email_key(q)) + "%"))
    else:
        pattern = "%" + _like(q) + "%"
        query = query.where(Customer.name.ilike(pattern) | Customer.email_key.like(_like(email_key(q)) + "%"))
    return await query.order_by(Customer.name).limit(limit)


async def orders(customer_id: int, *, limit: int = 10) -> list[dict]:
    return await Order.select(Order.id, Order.number, Order.status, Order.total, Order.currency,
                              Order.placed_at).where(Order.customer == customer_id).order_by(
        Order.placed_at, ascending=False).limit(limit)


async def notes(customer_id: int) -> list[dict]:
    rows = await CustomerNote.select().where(CustomerNote.customer == customer_id).order_by(
        CustomerNote.id, ascending=False)
    for row in rows:
        row["body_html"] = text.body_html(row["body"])
    return rows


async def add_note(customer_id: int, *, author_id: int, author_name: str, body: str, now: datetime) -> None:
    if not body.strip() or len(body) > 10000:
        raise TicketError("bad_note")
    if not await Customer.exists().where(Customer.id == customer_id):
        raise TicketError("not_found")
    await CustomerNote.insert(CustomerNote(customer=customer_id, author=author_id, author_name=author_name,
                                           body=body, created_at=now))
