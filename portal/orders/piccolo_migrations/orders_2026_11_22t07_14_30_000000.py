"""Indexes for the order lists that Piccolo's auto migrations cannot express (composite ones).

- ``orders_customer_placed``: "my orders, newest first" reads one customer's rows in order.
- ``orders_placed``: the staff list, newest first (keyset pagination on ``placed_at, id``).
- ``orders_status_placed``: the staff list filtered by status.
- ``order_event_order_id``: a timeline in time order without a sort.

The SQL is valid on SQLite and PostgreSQL alike; ``IF NOT EXISTS`` keeps it re-runnable.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T07:14:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "orders: composite indexes for the lists"

FORWARDS = (
    "CREATE INDEX IF NOT EXISTS orders_customer_placed ON orders (customer, placed_at, id)",
    "CREATE INDEX IF NOT EXISTS orders_placed ON orders (placed_at, id)",
    "CREATE INDEX IF NOT EXISTS orders_status_placed ON orders (status, placed_at, id)",
    "CREATE INDEX IF NOT EXISTS order_event_order_id ON order_event (\"order\", id)",
)
BACKWARDS = (
    "DROP INDEX IF EXISTS orders_customer_placed",
    "DROP INDEX IF EXISTS orders_placed",
    "DROP INDEX IF EXISTS orders_status_placed",
    "DROP INDEX IF EXISTS order_event_order_id",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="orders", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in FORWARDS:
            await engine.run_ddl(sql)

    async def run_backwards():
        engine = engine_finder()
        for sql in BACKWARDS:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
