"""One row per customer who has orders: their RFM figures, 1–5 scores and named segment.

Recomputed for one customer when their orders change (``portal.orders.service`` calls
``portal.value.service.refresh_customer``) and for everyone nightly by the worker.
"""

from decimal import Decimal

from piccolo.columns import ForeignKey, Integer, Numeric, OnDelete, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import Customer


class CustomerValue(Table, tablename="customer_value"):
    id = Serial(primary_key=True)
    customer = ForeignKey(references=Customer, on_delete=OnDelete.cascade, unique=True)
    recency_days = Integer(default=0)  # days since the last counted order
    frequency = Integer(default=0)  # counted orders in the window
    monetary = Numeric(digits=(14, 2), default=Decimal("0"))  # their total, in the shop currency
    r = Integer(default=1)
    f = Integer(default=1)
    m = Integer(default=1)
    segment = Varchar(length=20, index=True)
    computed_at = Timestamptz(default=TimestamptzNow())
