"""``python -m bench.customer_value``: the nightly RFM recomputation (``portal.value.service.
refresh_all``) with 100,000 customers, and the per-customer recomputation an order change
runs, on PostgreSQL (``--engine sqlite`` for SQLite).

1. A fresh migrated database (``bench.servers.database``), then ``--customers`` customers and
   on average ``--orders-per-customer`` orders each (1 to 2×avg, placed over the last three
   years, one in ten cancelled or refunded), written with ``INSERT … SELECT`` over
   ``generate_series`` (PostgreSQL) or a recursive CTE (SQLite).
2. ``refresh_all`` three times: the first fills ``customer_value``, the next ones update every
   row (the steady nightly state). Then ``refresh_customer`` for ``--singles`` customers,
   one after another (what ``upsert_order``/``change_order`` add to an order change).
3. Prints the times and the segment counts.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.servers import database

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _fill_sql(sqlite: bool, customers: int, per: int) -> list[str]:
    if sqlite:
        series = f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {customers}) "
        orders = (f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {customers * per}) "
                  "INSERT INTO orders (number, customer, email, email_key, customer_name, status, total, currency, "
                  "placed_at, search_text, created_at, updated_at) "
                  "SELECT 'B' || i, 1 + (abs(random()) % " + str(customers) + "), 'x', 'x', '', "
                  "CASE WHEN i % 10 = 0 THEN 'cancelled' WHEN i % 10 = 5 THEN 'refunded' ELSE 'delivered' END, "
                  "(abs(random()) % 500000) / 100.0, 'TRY', "
                  "datetime('2026-11-23 03:00:00', '-' || (abs(random()) % 1095) || ' days') || '+00:00', '', "
                  "'2026-11-23 03:00:00+00:00', '2026-11-23 03:00:00+00:00' FROM s")
        return [
            series + "INSERT INTO customer (email, email_key, name, locale, session_version, created_at, updated_at) "
            "SELECT 'c' || i || '@bench.test', 'c' || i || '@bench.test', 'C ' || i, 'tr', 0, "
            "'2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00' FROM s",
            orders,
        ]
    return [
        "INSERT INTO customer (email, email_key, name, locale, session_version, created_at, updated_at) "
        f"SELECT 'c' || i || '@bench.test', 'c' || i || '@bench.test', 'C ' || i, 'tr', 0, now(), now() "
        f"FROM generate_series(1, {customers}) i",
        "INSERT INTO orders (number, customer, email, email_key, customer_name, status, total, currency, placed_at, "
        "search_text, created_at, updated_at) "
        f"SELECT 'B' || i, (SELECT min(id) FROM customer) + (random() * ({customers} - 1))::int, 'x', 'x', '', "
        "CASE WHEN i % 10 = 0 THEN 'cancelled' WHEN i % 10 = 5 THEN 'refunded' ELSE 'delivered' END, "
        "round((random() * 5000)::numeric, 2), 'TRY', "
        "timestamptz '2026-11-23 03:00:00+00' - (random() * 1095) * interval '1 day', '', now(), now() "
        f"FROM generate_series(1, {customers * per}) i",
        "ANALYZE",
    ]


async def run(url: str, customers: int, per: int, singles: int) -> None:
    from portal import db
    from portal.settings import Settings
    from portal.value import service as value
    from portal.value.tables import CustomerValue

    settings = Settings(database_url=url, secret_key="x" * 40, var_dir=Path(tempfile.gettempdir()))
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine, pool_size=4)
    try:
        t0 = time.perf_counter()
        for sql in _fill_sql(db.is_sqlite(), customers, per):
            await CustomerValue.raw(sql)
        orders = (await CustomerValue.raw("SELECT count(*) AS n FROM orders"))[0]["n"]
        print(f"  generated {customers:,} customers, {orders:,} orders in {time.perf_counter() - t0:.1f} s")
        for label in ("first run (insert)", "second run (update)", "third run (update)"):
            t0 = time.perf_counter()
            rows = await value.refresh_all(now=NOW)
            print(f"  refresh_all, {label}: {time.perf_counter() - t0:.2f} s for {rows:,} customers")
        ids = [r["id"] for r in await CustomerValue.raw(f"SELECT customer AS id FROM customer_value LIMIT {singles}")]
        times = []
        for cid in ids:
            t0 = time.perf_counter()
            async with db.transaction():
                await value.refresh_customer(cid, now=NOW)
            times.append(time.perf_counter() - t0)
        times.sort()
        print(f"  refresh_customer (one customer, in its own transaction): median "
              f"{statistics.median(times) * 1000:.2f} ms, p95 {times[int(len(times) * 0.95)] * 1000:.2f} ms")
        print("  segments:", ", ".join(f"{k} {v:,}" for k, v in (await value.segment_counts()).items()))
    finally:
        await db.stop(engine)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders-per-customer", type=int, default=4)
    parser.add_argument("--singles", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work, database(args.engine, Path(work)) as url:
        print(f"{args.engine}: {args.customers:,} customers")
        asyncio.run(run(url, args.customers, args.orders_per_customer, args.singles))


if __name__ == "__main__":
    main()
