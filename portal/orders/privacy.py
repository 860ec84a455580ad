"""What the portal keeps about a customer's orders, for the data download and account deletion
(KVKK/GDPR). Registered with :mod:`portal.accounts.service` when the orders service is imported.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from portal.accounts import service as accounts
from portal.orders.tables import Order, OrderItem

CENT = Decimal("0.01")


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


@accounts.register_exporter
async def export_orders(customer_id: int) -> dict:
    orders = await Order.select(
        Order.id, Order.number, Order.status, Order.total, Order.currency, Order.placed_at, Order.email,
        Order.customer_name, Order.phone, Order.shipping_address, Order.carrier, Order.tracking_number,
    ).where(Order.customer == customer_id)
    items = await OrderItem.select(
        OrderItem.order, OrderItem.sku, OrderItem.name, OrderItem.quantity, OrderItem.unit_price,
    ).where(OrderItem.order.is_in([o["id"] for o in orders] or [0]))
    out = []
    for o in orders:
        mine = [{"sku": i["sku"], "name": i["name"], "quantity": i["quantity"],
                 "unit_price": str(Decimal(i["unit_price"]).quantize(CENT))}
                for i in items if i["order"] == o["id"]]
        out.append({**{k: v for k, v in o.items() if k != "id"}, "items": mine,
                    "total": str(Decimal(o["total"]).quantize(CENT)),
                    "placed_at": _as_utc(o["placed_at"]).isoformat()})
    return {"orders": out}


@accounts.register_eraser
async def erase_orders(customer_id: int, *, now: datetime) -> None:
    """The order stays (the shop's books need it) but nothing in it names the person."""
    placeholder = f"deleted-{customer_id}@invalid"
    await Order.update({Order.email: placeholder, Order.email_key: placeholder, Order.customer_name: "",
                        Order.phone: None, Order.shipping_address: "", Order.search_text: "",
                        Order.updated_at: now}).where(Order.customer == customer_id)
