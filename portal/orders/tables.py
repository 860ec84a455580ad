"""Orders: made elsewhere (a shop, an ERP, a call centre), received here, shown and tracked.

An order belongs to a ``Customer`` row (found or created from its e-mail address); the
customer sees it in the portal only once that row is a verified log-in account. Every change
is an ``OrderEvent`` with its time and note: the timeline is the history, never rewritten.
"""

from piccolo.columns import (
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import Customer


class Order(Table, tablename="orders"):  # "order" is an SQL keyword
    id = Serial(primary_key=True)
    number = Varchar(length=64, unique=True)
    # Customers are anonymised, never deleted; an order must never vanish with one.
    customer = ForeignKey(references=Customer, on_delete=OnDelete.restrict)
    email = Varchar(length=320)  # as the shop gave it
    email_key = Varchar(length=320, index=True)  # portal.i18n.email_key(email): guest tracking
    customer_name = Varchar(length=200, default="")
    phone = Varchar(length=32, null=True, default=None, index=True)
    shipping_address = Text(default="")  # staff and the owner only, never a guest
    status = Varchar(length=20, index=True)
    total = Numeric(digits=(12, 2))
    currency = Varchar(length=3, default="TRY")
    placed_at = Timestamptz()
    carrier = Varchar(length=60, default="")
    tracking_number = Varchar(length=80, default="")
    estimated_delivery = Date(null=True, default=None)
    # Folded number, e-mail, name and phone (portal.i18n.search_fold) for the staff search.
    search_text = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class OrderItem(Table, tablename="order_item"):
    id = Serial(primary_key=True)
    order = ForeignKey(references=Order, on_delete=OnDelete.cascade, index=True)
    position = Integer(default=0)
    sku = Varchar(length=64, default="")
    name = Varchar(length=300)
    quantity = Integer(default=1)
    unit_price = Numeric(digits=(12, 2))


class OrderEvent(Table, tablename="order_event"):
    """One change on the timeline. ``kind``: created, status, shipment, note or updated."""

    id = Serial(primary_key=True)
    order = ForeignKey(references=Order, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=20)
    status = Varchar(length=20, null=True, default=None)
    note = Text(default="")
    carrier = Varchar(length=60, default="")
    tracking_number = Varchar(length=80, default="")
    actor = Varchar(length=200, default="")  # "api:<token name>", "staff:<e-mail>", "import", "demo"
    created_at = Timestamptz(default=TimestamptzNow())
