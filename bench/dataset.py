"""Realistic data at a named scale, in one database per engine, for ``python -m bench``.

The rows come from the feature benchmarks' own generators (``bench.orders``, ``bench.tickets``,
``bench.kb``): customers and their orders (1–3 items, 2–5 timeline events each), tickets with
five messages each on average (the heavy ones exactly 50) whose requesters are those
customers, and knowledge-base articles. PostgreSQL is filled with ``COPY``, SQLite with
batched ``executemany``; one progress bar per table.

A finished database carries a ``bench_dataset`` row naming its scale, so a later run with
``--reuse`` can skip the generation (the database is still migrated).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bench import kb, orders, tickets
from bench.setup_db import EMAIL
from portal.settings import sqlite_path

BURST_ACCOUNTS = 50  # customers c1…c50 get the benchmark password, for the parallel log-in burst


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    orders: int
    tickets: int
    articles: int
    heavy: int  # open tickets with exactly 50 messages (at most tickets / 10)

    @property
    def messages(self) -> int:
        """About five a ticket (1–9), the heavy ones 50."""
        return 5 * self.tickets + 45 * self.heavy


SCALES = {
    "small": Scale("small", customers=2_000, orders=10_000, tickets=10_000, articles=1_000, heavy=50),
    "large": Scale("large", customers=100_000, orders=100_000, tickets=1_000_000, articles=50_000, heavy=200),
}

# What a database holds, by table: the "holds that scale" check and the report.
COUNTED = {
    "customers": "customer",
    "orders": "orders",
    "tickets": "ticket",
    "messages": "ticket_message",
    "articles": "kb_article",
}


def burst_email(k: int) -> str:
    return orders.customer_email(k + 1)


def generate(engine: str, url: str, folder: Path, scale: Scale, console: Console | None = None) -> float:
    """Fill a migrated database (``bench.servers.set_up``) at ``scale``; the seconds taken."""
    started = time.monotonic()
    tickets.create_staff(url, folder)
    columns = (
        TextColumn(f"[bold]{engine}[/] {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console or Console()) as progress:
        order_task = progress.add_task("orders", total=scale.orders)
        ticket_task = progress.add_task(f"tickets (~{scale.messages:,} messages)", total=scale.tickets)
        article_task = progress.add_task("articles", total=scale.articles)

        def step(task: int) -> Callable[[int], None]:
            # Written to a file (a run in the background) the bars show only at the end: a line
            # per tenth of each table instead.
            info = next(t for t in progress.tasks if t.id == task)
            total = int(info.total or 0)
            marks = [total * k // 10 for k in range(1, 11)]
            done = [0]

            def advance(k: int) -> None:
                progress.advance(task, k)
                before, done[0] = done[0], done[0] + k
                if not progress.console.is_terminal and any(before < m <= done[0] for m in marks):
                    progress.console.print(f"{engine}: {info.description} {done[0]:,}/{total:,} "
                                           f"after {time.monotonic() - started:,.0f} s")  # fmt: skip

            return advance

        if engine == "sqlite":
            orders.generate_sqlite(url, scale.orders, scale.customers, step(order_task))
            ids = _customer_ids_sqlite(url)
            tickets.generate_sqlite(url, scale.tickets, 0, scale.heavy, step(ticket_task), requesters=ids)
            kb.generate_sqlite(url, scale.articles, step(article_task))
        else:
            asyncio.run(_generate_postgres(url, scale, step(order_task), step(ticket_task), step(article_task)))
    seconds = time.monotonic() - started
    _finish(engine, url, scale, seconds)
    return seconds


async def _generate_postgres(
    url: str,
    scale: Scale,
    order_step: Callable[[int], None],
    ticket_step: Callable[[int], None],
    article_step: Callable[[int], None],
) -> None:
    import asyncpg

    await orders.generate_postgres(url, scale.orders, scale.customers, order_step)
    conn = await asyncpg.connect(url)
    try:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM customer ORDER BY id")]
    finally:
        await conn.close()
    await tickets.generate_postgres(url, scale.tickets, 0, scale.heavy, ticket_step, requesters=ids)
    await kb.generate_postgres(url, scale.articles, article_step)


def _customer_ids_sqlite(url: str) -> list[int]:
    conn = sqlite3.connect(sqlite_path(url))
    try:
        return [r[0] for r in conn.execute("SELECT id FROM customer ORDER BY id")]
    finally:
        conn.close()


_MARK = "CREATE TABLE IF NOT EXISTS bench_dataset (scale TEXT NOT NULL, seconds REAL NOT NULL)"


def _finish(engine: str, url: str, scale: Scale, seconds: float) -> None:
    """The burst accounts get the benchmark customer's password; the scale is recorded."""
    emails = [burst_email(k) for k in range(BURST_ACCOUNTS)]
    if engine == "sqlite":
        conn = sqlite3.connect(sqlite_path(url))
        try:
            with conn:
                conn.execute(
                    "UPDATE customer SET password_hash = (SELECT password_hash FROM customer WHERE email = ?),"
                    " email_verified_at = created_at"
                    f" WHERE email IN ({', '.join('?' * len(emails))})",  # noqa: S608 - placeholders only
                    (EMAIL, *emails),
                )
                conn.execute(_MARK)
                conn.execute("DELETE FROM bench_dataset")
                conn.execute("INSERT INTO bench_dataset VALUES (?, ?)", (scale.name, seconds))
        finally:
            conn.close()
    else:
        asyncio.run(_finish_postgres(url, scale, seconds, emails))


async def _finish_postgres(url: str, scale: Scale, seconds: float, emails: list[str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(
                "UPDATE customer SET password_hash = (SELECT password_hash FROM customer WHERE email = $1),"
                " email_verified_at = created_at WHERE email = ANY($2::text[])",
                EMAIL,
                emails,
            )
            await conn.execute(_MARK)
            await conn.execute("DELETE FROM bench_dataset")
            await conn.execute("INSERT INTO bench_dataset VALUES ($1, $2)", scale.name, seconds)
    finally:
        await conn.close()
    await _sync_ticket_numbers(url)


def sync_ticket_numbers(engine: str, url: str) -> None:
    """PostgreSQL numbers new tickets ``1000 + nextval('ticket_number_seq')``: past the
    generated ones, or the app's first opening would take a number that exists."""
    if engine == "postgres":
        asyncio.run(_sync_ticket_numbers(url))


async def _sync_ticket_numbers(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT to_regclass('ticket_number_seq') IS NOT NULL"):
            await conn.execute(
                "SELECT setval('ticket_number_seq', GREATEST(COALESCE(MAX(number), 1000) - 1000, 1), "
                "MAX(number) IS NOT NULL) FROM ticket"
            )
    finally:
        await conn.close()


def recorded_scale(engine: str, url: str) -> str | None:
    """The scale a finished generation recorded, or None (never generated, or interrupted)."""
    rows = _query(engine, url, "SELECT scale FROM bench_dataset", missing_ok=True)
    return rows[0][0] if rows else None


def counts(engine: str, url: str) -> dict[str, int]:
    """Rows per kind of data (see :data:`COUNTED`)."""
    return {
        kind: int(_query(engine, url, f'SELECT COUNT(*) FROM "{table}"')[0][0])  # noqa: S608 - constant names
        for kind, table in COUNTED.items()
    }


def fetch_value(engine: str, url: str, sql: str) -> object:
    """The first column of the first row of a parameterless query, or None."""
    rows = _query(engine, url, sql)
    return rows[0][0] if rows else None


def _query(engine: str, url: str, sql: str, *, missing_ok: bool = False) -> list[tuple]:
    if engine == "sqlite":
        conn = sqlite3.connect(sqlite_path(url))
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            if missing_ok:
                return []
            raise
        finally:
            conn.close()
    return asyncio.run(_pg_query(url, sql, missing_ok))


async def _pg_query(url: str, sql: str, missing_ok: bool) -> list[tuple]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    except asyncpg.UndefinedTableError:
        if missing_ok:
            return []
        raise
    finally:
        await conn.close()
