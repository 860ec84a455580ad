"""``python -m bench.orders``: 100,000 orders, then the order page and guest tracking under load.

1. A fresh database per engine (``bench.servers.database``: migrated, one verified customer),
   filled with ``--orders`` orders (1–3 items and 2–5 timeline events each) for ``--customers``
   customers: batched ``executemany`` on SQLite, ``COPY`` (asyncpg ``copy_records_to_table``)
   on PostgreSQL, with a progress bar.
2. The bare Litestar plaintext app and the portal, served the same way (``--server``,
   ``--workers``), loaded with wrk at each ``--connections`` count:
   ``GET /orders/{number}`` logged in as the benchmark customer (a random one of their orders
   per request) and ``POST /track`` (a random order of the 100,000 with its e-mail).
3. Prints requests/s, p50, p99 and the share of the same run's plaintext figure.

Targets (issue 3): the order page at least 12% of plaintext on both engines, p99 under 30 ms
at 8 connections. wrk runs on the same cores as the server: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.servers import (
    BARE_FACTORY,
    PORTAL_FACTORY,
    REPORT_LUA,
    Result,
    ServerConfig,
    check_page,
    database,
    log_in,
    portal_env,
    run_wrk,
    serving,
    which_wrk,
)
from bench.setup_db import EMAIL, PASSWORD
from portal.i18n import email_key
from portal.orders.service import STATUSES, search_text
from portal.settings import sqlite_path

console = Console()
BATCH = 5000
EPOCH = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PRODUCTS = [
    ("KLM-01", "Çelik Termos 1L", 349.90),
    ("KMP-07", "Katlanır Kamp Sandalyesi", 1234.56),
    ("BT-220", "Bluetooth Kulaklık", 899.00),
    ("KHV-05", "Türk Kahvesi Makinesi", 2499.90),
    ("CAY-12", "Çay Bardağı Seti", 149.40),
    ("DFT-3", "Deri Kapaklı Defter", 129.90),
    ("HAV-9", "Pamuklu Havlu Seti", 459.00),
    ("SRT-44", "Sırt Çantası 30L", 1149.00),
]
CARRIERS = ["yurtici", "aras", "mng", "ptt", "surat", "ups", "dhl"]
NAMES = ["Ayşe Yılmaz", "Mehmet Demir", "İrem Işık", "Oğuz Güneş", "Zeynep Çelik", "Emre Şahin", "Elif Aydın"]


def number(i: int) -> str:
    return f"BN-{i:06d}"


def customer_email(index: int) -> str:
    """Customer 0 is the benchmark account (``bench.setup_db``); the rest are generated."""
    return EMAIL if index == 0 else f"c{index}@bench.example"


# --- generating ---------------------------------------------------------------------------------


def _rows(
    n: int, customers: int, customer_ids: list[int]
) -> Iterator[tuple[tuple, list[tuple], list[tuple]]]:
    """(order, items, events) for orders 1..n; order i belongs to customer i % customers."""
    rng = random.Random(42)
    for i in range(1, n + 1):
        index = i % customers
        email = customer_email(index)
        name = rng.choice(NAMES)
        placed = EPOCH - timedelta(minutes=n - i)
        picks = rng.sample(PRODUCTS, rng.randint(1, 3))
        items = [
            (i, pos, sku, title, rng.randint(1, 3), price) for pos, (sku, title, price) in enumerate(picks)
        ]
        total = round(sum(item[4] * item[5] for item in items), 2)
        status = STATUSES[min(int(rng.expovariate(0.5)), len(STATUSES) - 1)]
        carrier = rng.choice(CARRIERS) if status in ("shipped", "out_for_delivery", "delivered") else ""
        tracking = f"{carrier[:2].upper()}{rng.randint(10**8, 10**9 - 1)}" if carrier else ""
        order = (
            i,
            number(i),
            customer_ids[index],
            email,
            email_key(email),
            name,
            "+905321234567",
            "Bağdat Caddesi 12/3 Kadıköy İstanbul",
            status,
            total,
            "TRY",
            placed,
            carrier,
            tracking,
            (placed + timedelta(days=3)).date() if carrier else None,
            search_text(number(i), email, name, "+905321234567"),
            placed,
            placed,
        )
        events = [(i, "created", "received", "", "", "", "bench", placed)]
        for step, s in enumerate(STATUSES[1 : rng.randint(2, 5)], start=1):
            events.append(
                (
                    i,
                    "status",
                    s,
                    "",
                    carrier if s == "shipped" else "",
                    tracking if s == "shipped" else "",
                    "bench",
                    placed + timedelta(hours=step),
                )
            )
        yield order, items, events


ORDER_COLUMNS = (
    "id",
    "number",
    "customer",
    "email",
    "email_key",
    "customer_name",
    "phone",
    "shipping_address",
    "status",
    "total",
    "currency",
    "placed_at",
    "carrier",
    "tracking_number",
    "estimated_delivery",
    "search_text",
    "created_at",
    "updated_at",
)
ITEM_COLUMNS = ("order", "position", "sku", "name", "quantity", "unit_price")
EVENT_COLUMNS = ("order", "kind", "status", "note", "carrier", "tracking_number", "actor", "created_at")
CUSTOMER_COLUMNS = (
    "id",
    "email",
    "email_key",
    "name",
    "locale",
    "session_version",
    "created_at",
    "updated_at",
)


def _batches(n: int, customers: int, customer_ids: list[int]) -> Iterator[tuple[list, list, list]]:
    orders, items, events = [], [], []
    for order, its, evs in _rows(n, customers, customer_ids):
        orders.append(order)
        items.extend(its)
        events.extend(evs)
        if len(orders) == BATCH:
            yield orders, items, events
            orders, items, events = [], [], []
    if orders:
        yield orders, items, events


def _sql_value(value: object) -> object:
    """What Piccolo's SQLite adapters store: timestamps and dates as text."""
    if isinstance(value, datetime | date):
        return str(value)
    return value


def generate_sqlite(url: str, n: int, customers: int, advance: Callable[[int], None]) -> None:
    conn = sqlite3.connect(sqlite_path(url))
    try:
        bench_id = conn.execute("SELECT id FROM customer WHERE email = ?", (EMAIL,)).fetchone()[0]
        start = conn.execute("SELECT COALESCE(MAX(id), 0) FROM customer").fetchone()[0] + 1
        ids = [bench_id, *range(start, start + customers - 1)]
        with conn:
            conn.executemany(
                _insert("customer", CUSTOMER_COLUMNS, "?"),
                [
                    (
                        ids[c],
                        customer_email(c),
                        email_key(customer_email(c)),
                        NAMES[c % len(NAMES)],
                        "tr",
                        0,
                        str(EPOCH),
                        str(EPOCH),
                    )
                    for c in range(1, customers)
                ],
            )
        for orders, items, events in _batches(n, customers, ids):
            with conn:
                for table, columns, rows in (
                    ("orders", ORDER_COLUMNS, orders),
                    ("order_item", ITEM_COLUMNS, items),
                    ("order_event", EVENT_COLUMNS, events),
                ):
                    conn.executemany(_insert(table, columns, "?"), [tuple(map(_sql_value, r)) for r in rows])
            advance(len(orders))
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _insert(table: str, columns: tuple[str, ...], mark: str) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join([mark] * len(columns))})'  # noqa: S608


async def generate_postgres(url: str, n: int, customers: int, advance: Callable[[int], None]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        bench_id = await conn.fetchval("SELECT id FROM customer WHERE email = $1", EMAIL)
        start = await conn.fetchval("SELECT COALESCE(MAX(id), 0) FROM customer") + 1
        ids = [bench_id, *range(start, start + customers - 1)]
        await conn.copy_records_to_table(
            "customer",
            columns=list(CUSTOMER_COLUMNS),
            records=[
                (
                    ids[c],
                    customer_email(c),
                    email_key(customer_email(c)),
                    NAMES[c % len(NAMES)],
                    "tr",
                    0,
                    EPOCH,
                    EPOCH,
                )
                for c in range(1, customers)
            ],
        )
        for orders, items, events in _batches(n, customers, ids):
            async with conn.transaction():
                await conn.copy_records_to_table("orders", columns=list(ORDER_COLUMNS), records=orders)
                await conn.copy_records_to_table("order_item", columns=list(ITEM_COLUMNS), records=items)
                await conn.copy_records_to_table("order_event", columns=list(EVENT_COLUMNS), records=events)
            advance(len(orders))
        for table in ("customer", "orders"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def generate(engine: str, url: str, n: int, customers: int) -> float:
    started = time.monotonic()
    columns = (
        TextColumn(f"[bold]{engine}[/]: generating orders"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("orders", total=n)

        def advance(k: int) -> None:
            progress.advance(task, k)

        if engine == "sqlite":
            generate_sqlite(url, n, customers, advance)
        else:
            asyncio.run(generate_postgres(url, n, customers, advance))
    return time.monotonic() - started


# --- loading --------------------------------------------------------------------------------------


def order_page_lua(n: int, customers: int) -> str:
    """A random order of the benchmark customer (customer 0 owns every ``customers``-th order)."""
    return (
        f"""
request = function()
  local k = math.random(1, {n // customers})
  return wrk.format("GET", string.format("/orders/BN-%06d", k * {customers}))
end
"""
        + REPORT_LUA
    )


def track_lua(n: int, customers: int, csrf: str) -> str:
    """POST /track for a random order of all ``n``, with its customer's e-mail."""
    return (
        f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "portal_csrf={csrf}"
request = function()
  local i = math.random(1, {n})
  local c = i % {customers}
  local email = c == 0 and "{EMAIL.replace("@", "%40")}" or string.format("c%d%%40bench.example", c)
  local body = string.format("_csrf_token={csrf}&number=BN-%06d&email=%s", i, email)
  return wrk.format(nil, nil, nil, body)
end
"""
        + REPORT_LUA
    )


def csrf_cookie(base: str) -> str:
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/track")
        return client.cookies["portal_csrf"]


def measure(args: argparse.Namespace, engine: str, url: str, folder: Path, work: Path) -> list[tuple]:
    config = ServerConfig(args.server, args.workers)
    report_lua = work / "report.lua"
    report_lua.write_text(REPORT_LUA)
    rows: list[tuple] = []

    def load(target: str, lua: Path, connections: int, headers: dict[str, str] | None = None) -> Result:
        if args.warmup:
            run_wrk(target, seconds=args.warmup, connections=connections, threads=1, lua=lua, headers=headers)
        return run_wrk(
            target, seconds=args.duration, connections=connections, threads=1, lua=lua, headers=headers
        )

    bare: dict[int, Result] = {}
    env = {
        k: v for k, v in portal_env(url, folder, "http://127.0.0.1").items() if not k.startswith("PORTAL_")
    }
    with serving(config, BARE_FACTORY, env, work / "bare.log", "/plaintext") as base:
        for c in args.connections:
            bare[c] = load(base + "/plaintext", report_lua, c)
            rows.append((engine, "bare /plaintext", c, bare[c], 1.0))
    with serving(
        config, PORTAL_FACTORY, portal_env(url, folder, "http://127.0.0.1"), folder / "portal.log", "/healthz"
    ) as base:
        cookie = log_in(base, EMAIL, PASSWORD)
        page_lua, post_lua = work / f"order-{engine}.lua", work / f"track-{engine}.lua"
        page_lua.write_text(order_page_lua(args.orders, args.customers))
        post_lua.write_text(track_lua(args.orders, args.customers, csrf_cookie(base)))
        first = check_page(base, f"/orders/{number(args.customers)}", cookie)
        if first.status_code != 200:
            raise RuntimeError(f"/orders/… answered {first.status_code}; see {folder / 'portal.log'}")
        for c in args.connections:
            result = load(base + "/", page_lua, c, {"Cookie": cookie})
            rows.append((engine, "/orders/{number} (logged in)", c, result, result.rps / bare[c].rps))
            result = load(base + "/track", post_lua, c)
            rows.append((engine, "POST /track", c, result, result.rps / bare[c].rps))
    return rows


def print_table(rows: list[tuple], config: str) -> None:
    table = Table(title=f"orders benchmark ({config}; share = requests/s ÷ bare plaintext, same run)")
    for name in ("db", "endpoint", "conn", "req/s", "p50 ms", "p99 ms", "non-2xx", "share"):
        table.add_column(name, justify="right" if name not in ("db", "endpoint") else "left")
    for engine, label, c, r, share in rows:
        table.add_row(
            engine,
            label,
            str(c),
            f"{r.rps:,.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            str(r.non2xx + r.socket_errors),
            f"{share:.1%}",
        )
    console.print(table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.orders",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", default="both", choices=["sqlite", "postgres", "both"])
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--customers", type=int, default=5_000, help="order i belongs to customer i %% customers")
    p.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument(
        "--connections",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[64, 8],
        help="wrk connection counts, comma-separated (default 64,8)",
    )
    p.add_argument("--duration", type=int, default=10, help="seconds of load per cell")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    p.add_argument("--generate-only", action="store_true", help="fill the databases, measure nothing")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.generate_only:
        which_wrk()
    engines = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-orders-") as tmp:
        work = Path(tmp)
        for engine in engines:
            folder = work / engine
            folder.mkdir()
            with database(engine, folder) as url:
                seconds = generate(engine, url, args.orders, args.customers)
                console.print(
                    f"{engine}: {args.orders:,} orders in {seconds:.1f} s "
                    f"({args.orders / seconds:,.0f} orders/s)"
                )
                if not args.generate_only:
                    rows.extend(measure(args, engine, url, folder, work))
    if rows:
        print_table(rows, f"{args.server} {args.workers}w, {args.orders:,} orders")


if __name__ == "__main__":
    main()
