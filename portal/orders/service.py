"""Order rules: create or replace an order, change its status and shipment, tell the customer.

No Request objects here: the API, the CSV importer, the staff pages and the demo all call
these functions with parsed values and ``now``. Each runs in one transaction, and the mail
it causes is written to the outbox in that same transaction. A change that changes nothing
writes nothing: no event, no mail (a shop that re-sends the same order every five minutes
must not flood the timeline or the customer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from email_validator import EmailNotValidError, validate_email

from portal import db
from portal.accounts import service as accounts
from portal.accounts.tables import Customer
from portal.i18n import LOCALES, N_, _, email_key, get_locale, search_fold
from portal.mail import service as outbox
from portal.orders import carriers, privacy  # noqa: F401 - privacy registers the KVKK export/erase
from portal.orders.tables import Order, OrderEvent, OrderItem
from portal.value import service as customer_value

STATUSES = ("received", "confirmed", "preparing", "shipped", "out_for_delivery", "delivered",
            "cancelled", "return_requested", "returned", "refunded")
STATUS_LABELS = {
    "received": N_("Received"), "confirmed": N_("Confirmed"), "preparing": N_("Preparing"),
    "shipped": N_("Shipped"), "out_for_delivery": N_("Out for delivery"), "delivered": N_("Delivered"),
    "cancelled": N_("Cancelled"), "return_requested": N_("Return requested"), "returned": N_("Returned"),
    "refunded": N_("Refunded"),
}
# The usual way forward (SPEC §9); any status may still be set, and every change is recorded.
FLOW = STATUSES[:6]
# A change to one of these mails the customer (one template each: templates/mail/order-<status>/).
# "received" is not mailed: the shop confirms the order itself when it is placed.
MAILED_STATUSES = frozenset(STATUSES) - {"received"}
SHIPPING_STATUSES = frozenset({"shipped", "out_for_delivery"})
CUSTOMER_EVENT_KINDS = ("created", "status", "shipment", "note")
MAIL_DELAY = timedelta(minutes=1)

NUMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{5,32}$")
CENT = Decimal("0.01")
MONEY_MAX = Decimal("9999999999.99")

_translated_labels: dict[str, dict[str, str]] = {}


def status_labels() -> dict[str, str]:
    """Status code → label in the current language (translated once per language, not per use)."""
    locale = get_locale()
    if locale not in _translated_labels:
        _translated_labels[locale] = {code: _(label) for code, label in STATUS_LABELS.items()}
    return _translated_labels[locale]


@dataclass(frozen=True)
class Item:
    name: str
    quantity: int
    unit_price: Decimal
    sku: str = ""


@dataclass(frozen=True)
class OrderData:
    """A whole order as a shop sends it (PUT) or a CSV file describes it."""

    number: str
    email: str
    name: str
    items: tuple[Item, ...]
    total: Decimal
    status: str
    placed_at: datetime
    currency: str = "TRY"
    phone: str | None = None
    shipping_address: str = ""
    carrier: str = ""
    tracking_number: str = ""
    estimated_delivery: date | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Change:
    """A status or shipment change (PATCH, staff form). ``None`` leaves a field as it is;
    an empty string clears the carrier or the tracking number."""

    status: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    estimated_delivery: date | None = None
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    order_id: int
    created: bool = False
    changed: bool = False


@dataclass
class OrderInvalid(Exception):
    """Field name → message, in the caller's language."""

    fields: dict[str, str] = field(default_factory=dict)


class OrderNotFound(Exception):
    pass


# --- validation (pure) ----------------------------------------------------------------------------

def money_error(value: Decimal) -> str | None:
    try:
        if not value.is_finite() or value < 0 or value > MONEY_MAX:
            return _("Enter an amount between 0 and %(max)s.", max="9999999999.99")
        if value != value.quantize(CENT):
            return _("Use at most two decimal places.")
    except InvalidOperation:
        return _("Enter an amount such as 1234.56.")
    return None


def validate_number(number: str) -> str | None:
    if not NUMBER_RE.match(number or ""):
        return _("Use 1 to 64 letters, digits, dots, dashes or underscores.")
    return None


def validate_status(status: str) -> str | None:
    if status not in STATUSES:
        return _("Unknown status. Use one of: %(statuses)s.", statuses=", ".join(STATUSES))
    return None


def validate_order(data: OrderData) -> dict[str, str]:
    """Every problem with an order, by field (API names: ``customer.email``, ``items[0].name``)."""
    errors: dict[str, str] = {}
    if msg := validate_number(data.number):
        errors["number"] = msg
    try:
        validate_email(data.email, check_deliverability=False)
    except EmailNotValidError:
        errors["customer.email"] = _("Enter a valid e-mail address.")
    if len(data.name) > 200:
        errors["customer.name"] = _("Please use at most %(n)s characters.", n=200)
    if data.phone and not PHONE_RE.match(data.phone):
        errors["customer.phone"] = _("Enter a phone number such as +905321234567.")
    if data.locale is not None and data.locale not in LOCALES:
        errors["customer.locale"] = _("Use tr or en.")
    if msg := validate_status(data.status):
        errors["status"] = msg
    if msg := money_error(data.total):
        errors["total"] = msg
    if not CURRENCY_RE.match(data.currency):
        errors["currency"] = _("Use a three-letter currency code such as TRY.")
    if data.placed_at.tzinfo is None:
        errors["placed_at"] = _("Give the time with its UTC offset.")
    if not data.items:
        errors["items"] = _("An order needs at least one item.")
    for i, item in enumerate(data.items):
        if not item.name.strip() or len(item.name) > 300:
            errors[f"items[{i}].name"] = _("Give the item's name (at most 300 characters).")
        if len(item.sku) > 64:
            errors[f"items[{i}].sku"] = _("Please use at most %(n)s characters.", n=64)
        if not 1 <= item.quantity <= 100_000:
            errors[f"items[{i}].quantity"] = _("Use a whole number from 1 to 100000.")
        if msg := money_error(item.unit_price):
            errors[f"items[{i}].unit_price"] = msg
    errors.update(_shipment_errors(data.carrier, data.tracking_number))
    if len(data.shipping_address) > 1000:
        errors["shipping_address"] = _("Please use at most %(n)s characters.", n=1000)
    return errors


def _shipment_errors(carrier: str | None, tracking_number: str | None) -> dict[str, str]:
    errors = {}
    if carrier is not None and len(carrier) > 60:
        errors["carrier"] = _("Please use at most %(n)s characters.", n=60)
    if tracking_number is not None and len(tracking_number) > 80:
        errors["tracking_number"] = _("Please use at most %(n)s characters.", n=80)
    return errors


def validate_change(change: Change) -> dict[str, str]:
    errors = _shipment_errors(change.carrier, change.tracking_number)
    if change.status is not None and (msg := validate_status(change.status)):
        errors["status"] = msg
    if len(change.note) > 2000:
        errors["note"] = _("Please use at most %(n)s characters.", n=2000)
    return errors


def _normalized(data: OrderData) -> OrderData:
    return replace(
        data, number=data.number.strip(), email=data.email.strip(), name=data.name.strip(),
        phone=(data.phone or "").strip() or None, shipping_address=data.shipping_address.strip(),
        total=data.total.quantize(CENT), carrier=carriers.normalize(data.carrier),
        tracking_number=data.tracking_number.strip(),
        placed_at=data.placed_at.astimezone(UTC).replace(microsecond=0),
        items=tuple(Item(name=i.name.strip(), quantity=i.quantity, unit_price=i.unit_price.quantize(CENT),
                         sku=i.sku.strip()) for i in data.items),
    )


def search_text(number: str, email: str, name: str, phone: str | None) -> str:
    digits = re.sub(r"\D", "", phone or "")
    return " ".join(search_fold(part) for part in (number, email, name, phone or "", digits) if part)


# --- reading the current state --------------------------------------------------------------------

async def _current(number: str) -> dict | None:
    """The order row, locked for this transaction on PostgreSQL (SQLite's BEGIN IMMEDIATE
    already serialises writers)."""
    query = Order.select().where(Order.number == number)
    if not db.is_sqlite():
        query = query.lock_rows()
    return await query.first()


async def _items(order_id: int) -> tuple[Item, ...]:
    rows = await OrderItem.select(
        OrderItem.name, OrderItem.quantity, OrderItem.unit_price, OrderItem.sku,
    ).where(OrderItem.order == order_id).order_by(OrderItem.position)
    return tuple(Item(name=r["name"], quantity=r["quantity"], sku=r["sku"],
                      unit_price=Decimal(r["unit_price"]).quantize(CENT)) for r in rows)


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _order_values(data: OrderData, customer_id: int) -> dict:
    return {
        Order.customer: customer_id, Order.email: data.email, Order.email_key: email_key(data.email),
        Order.customer_name: data.name, Order.phone: data.phone,
        Order.shipping_address: data.shipping_address, Order.status: data.status, Order.total: data.total,
        Order.currency: data.currency, Order.placed_at: data.placed_at, Order.carrier: data.carrier,
        Order.tracking_number: data.tracking_number,
        Order.estimated_delivery: data.estimated_delivery,
        Order.search_text: search_text(data.number, data.email, data.name, data.phone),
    }


def _differs(current: dict, values: dict) -> bool:
    for column, new in values.items():
        old = current[column._meta.name]
        name = column._meta.name
        if name == "total":
            old = Decimal(old).quantize(CENT)
        elif name == "placed_at":
            old = _as_utc(old)
        if old != new:
            return True
    return False


# --- writing --------------------------------------------------------------------------------------

async def upsert_order(data: OrderData, *, actor: str, now: datetime, notify: bool = True) -> Outcome:
    """Create the order, or replace it with ``data``. Raises :class:`OrderInvalid`."""
    if errors := validate_order(data):
        raise OrderInvalid(errors)
    data = _normalized(data)
    async with db.transaction():
        customer = await accounts.find_or_create_customer(
            data.email, name=data.name, locale=data.locale or "tr", phone=data.phone, now=now)
        values = _order_values(data, customer["id"])
        current = await _current(data.number)
        if current is None:
            inserted = await Order.insert(Order(number=data.number, created_at=now, updated_at=now, **{
                c._meta.name: v for c, v in values.items()})).on_conflict(
                target=Order.number, action="DO NOTHING").returning(Order.id)
            if inserted:
                order_id = inserted[0]["id"]
                await _replace_items(order_id, data.items)
                await _event(order_id, "created", actor=actor, now=now, status=data.status,
                             carrier=data.carrier, tracking_number=data.tracking_number)
                await customer_value.refresh_customer(customer["id"], now=now)  # RFM, same transaction
                return Outcome(order_id, created=True, changed=True)
            current = await _current(data.number)  # created meanwhile by another request
        order_id = current["id"]
        items_changed = await _items(order_id) != data.items
        if not items_changed and not _differs(current, values):
            return Outcome(order_id)
        await Order.update({**values, Order.updated_at: now}).where(Order.id == order_id)
        if items_changed:
            await _replace_items(order_id, data.items)
        status_changed = current["status"] != data.status
        shipment_changed = _shipment_changed(current, data.carrier, data.tracking_number,
                                             data.estimated_delivery)
        if status_changed or shipment_changed:
            await _event(order_id, "status" if status_changed else "shipment", actor=actor, now=now,
                         status=data.status if status_changed else None, carrier=data.carrier,
                         tracking_number=data.tracking_number)
        details = {c: v for c, v in values.items() if c._meta.name not in _SHIPMENT_AND_STATUS}
        if items_changed or _differs(current, details):
            await _event(order_id, "updated", actor=actor, now=now)
        for owner in {customer["id"], current["customer"]}:  # RFM of the new (and any old) owner
            await customer_value.refresh_customer(owner, now=now)
        if notify and _worth_a_mail(current["status"], data.status, shipment_changed):
            await _mail_customer(order_id, now=now)
    return Outcome(order_id, changed=True)


_SHIPMENT_AND_STATUS = frozenset({"status", "carrier", "tracking_number", "estimated_delivery"})


async def change_order(number: str, change: Change, *, actor: str, now: datetime,
                       notify: bool = True) -> Outcome:
    """Apply a status/shipment change. Raises :class:`OrderNotFound` or :class:`OrderInvalid`."""
    if errors := validate_change(change):
        raise OrderInvalid(errors)
    note = change.note.strip()
    async with db.transaction():
        current = await _current(number)
        if current is None:
            raise OrderNotFound(number)
        order_id = current["id"]
        status = change.status if change.status is not None else current["status"]
        carrier = carriers.normalize(change.carrier) if change.carrier is not None else current["carrier"]
        tracking = change.tracking_number.strip() if change.tracking_number is not None else current[
            "tracking_number"]
        estimated = change.estimated_delivery or current["estimated_delivery"]
        status_changed = status != current["status"]
        shipment_changed = _shipment_changed(current, carrier, tracking, estimated)
        if not status_changed and not shipment_changed:
            if note and note != await _last_note(order_id):
                await _event(order_id, "note", actor=actor, now=now, note=note)
                return Outcome(order_id, changed=True)
            return Outcome(order_id)
        await Order.update({
            Order.status: status, Order.carrier: carrier, Order.tracking_number: tracking,
            Order.estimated_delivery: estimated, Order.updated_at: now,
        }).where(Order.id == order_id)
        await _event(order_id, "status" if status_changed else "shipment", actor=actor, now=now, note=note,
                     status=status if status_changed else None, carrier=carrier, tracking_number=tracking)
        if status_changed:  # a cancelled or refunded order no longer counts for RFM
            await customer_value.refresh_customer(current["customer"], now=now)
        if notify and _worth_a_mail(current["status"], status, shipment_changed):
            await _mail_customer(order_id, now=now)
    return Outcome(order_id, changed=True)


def _shipment_changed(current: dict, carrier: str, tracking: str, estimated: date | None) -> bool:
    return (current["carrier"], current["tracking_number"], current["estimated_delivery"]) != (
        carrier, tracking, estimated)


def _worth_a_mail(old_status: str, new_status: str, shipment_changed: bool) -> bool:
    """A new customer-visible status, or new shipment details while the parcel is on its way."""
    if new_status != old_status:
        return new_status in MAILED_STATUSES
    return shipment_changed and new_status in SHIPPING_STATUSES


async def _replace_items(order_id: int, items: tuple[Item, ...]) -> None:
    await OrderItem.delete().where(OrderItem.order == order_id)
    await OrderItem.insert(*[OrderItem(order=order_id, position=i, sku=item.sku, name=item.name,
                                       quantity=item.quantity, unit_price=item.unit_price)
                             for i, item in enumerate(items)])


async def _event(order_id: int, kind: str, *, actor: str, now: datetime, status: str | None = None,
                 note: str = "", carrier: str = "", tracking_number: str = "") -> None:
    await OrderEvent.insert(OrderEvent(order=order_id, kind=kind, status=status, note=note, carrier=carrier,
                                       tracking_number=tracking_number, actor=actor[:200], created_at=now))


async def _last_note(order_id: int) -> str | None:
    row = await OrderEvent.select(OrderEvent.note).where(OrderEvent.order == order_id).order_by(
        OrderEvent.id, ascending=False).first()
    return row["note"] if row else None


# --- telling the customer -------------------------------------------------------------------------

def mail_template(status: str) -> str:
    return "order-" + status.replace("_", "-")


def mail_context(order: dict, *, has_account: bool) -> dict[str, Any]:
    """What an order mail shows; the link is the order page for account holders, else /track."""
    return {
        "number": order["number"],
        "status": order["status"],
        "total": Decimal(order["total"]).quantize(CENT),
        "currency": order["currency"],
        "carrier_name": carriers.display_name(order["carrier"]),
        "tracking_number": order["tracking_number"],
        "tracking_url": carriers.tracking_url(order["carrier"], order["tracking_number"]),
        "estimated_delivery": order["estimated_delivery"],
        "link_path": f"/orders/{order['number']}" if has_account else "/track",
    }


async def _mail_customer(order_id: int, *, now: datetime) -> None:
    """Queue (or rewrite) the order's status mail. Changes within ``MAIL_DELAY`` of each other
    share one outbox row (``coalesce_key``): the customer gets one mail with the latest state."""
    order = await Order.select().where(Order.id == order_id).first()
    customer = await Customer.select(Customer.locale, Customer.password_hash, Customer.email_verified_at,
                                     Customer.deleted_at).where(Customer.id == order["customer"]).first()
    if customer is None or customer["deleted_at"] is not None:
        return
    context = mail_context(order, has_account=accounts.has_account(customer))
    await outbox.enqueue(mail_template(order["status"]), to=order["email"], name=order["customer_name"],
                         locale=customer["locale"], context=context, now=now, related=f"order:{order_id}",
                         coalesce_key=f"order-status:{order_id}", delay=MAIL_DELAY)
