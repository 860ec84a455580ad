"""``python -m bench.tickets``: a million tickets, then the staff queue and a ticket page under load.

1. A fresh database per engine (``bench.servers.database``: migrated), with five teams, ten
   agents (the benchmark agent logs in), ``--customers`` requesters and ``--tickets`` tickets
   (10% open: new, open, pending or on hold, most with a due time; the rest solved or closed)
   carrying five messages each on average (1–9; the first ``--heavy`` open tickets exactly 50),
   so 1,000,000 tickets make 5,000,000 messages. ``COPY`` (asyncpg
   ``copy_records_to_table``) on PostgreSQL, batched ``executemany`` on SQLite, progress bars.
2. The bare Litestar plaintext app and the portal, served the same way (``--server``,
   ``--workers``), loaded with wrk at each ``--connections`` count: the first page of the
   "all open" view sorted by nearest due time (``/staff/queue``) and the staff page of a
   ticket with 50 messages (a random one of the heavy tickets per request), logged in as an
   agent.
3. Prints requests/s, p50, p99 and the share of the same run's plaintext figure, and with
   ``--explain`` the query plans of the queue's views.

Targets (issue 4): queue p99 under 50 ms at 8 connections on PostgreSQL at 1M tickets and on
SQLite at 100k, and at least 6% of plaintext. wrk runs on the same cores as the server:
compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.servers import (
    BARE_FACTORY,
    PORTAL_FACTORY,
    REPORT_LUA,
    ROOT,
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
from portal.i18n import email_key, search_fold
from portal.settings import sqlite_path

console = Console()
BATCH = 20_000  # tickets per batch (and their messages)
EPOCH = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
AGENT_EMAIL = "agent@bench.example"
AGENT_PASSWORD = "benchmark agent password 2026"  # noqa: S105 - a throwaway account in a throwaway database
TEAMS = [("destek", "Destek", "Support"), ("iade", "İade", "Returns"), ("kargo", "Kargo", "Shipping"),
         ("fatura", "Fatura", "Billing"), ("teknik", "Teknik", "Technical")]
AGENTS = 10
OPEN = ("new", "open", "pending", "on_hold")
SUBJECTS = [
    "Siparişim nerede?", "İade talebi", "Kargo gecikmesi hakkında", "Faturamı alamadım", "Ürün hasarlı geldi",
    "Where is my order?", "Refund request", "Wrong size delivered", "Şifremi sıfırlayamıyorum",
    "Kampanya kodu çalışmıyor", "Değişim yapmak istiyorum", "Payment taken twice", "Teslimat adresi değişikliği",
    "Ürün stokta ne zaman olur?", "Garanti kapsamı", "Cannot log in", "Eksik ürün", "Kapıda ödeme seçeneği",
]
BODIES = [
    "Merhaba, siparişim üç gündür kargoda görünüyor ama hiçbir hareket yok. Yardımcı olabilir misiniz?",
    "Hello, the parcel arrived today but the box was crushed and one of the glasses is broken.",
    "Talebiniz için teşekkürler. Kargo firmasıyla görüştük, paketiniz yarın dağıtıma çıkacak.",
    "İade kodunuz oluşturuldu; ürünü orijinal kutusunda en yakın şubeye teslim edebilirsiniz.",
    "Thanks for waiting. The refund was issued today and should reach your card within 3-5 working days.",
    "Fatura bilgilerinizi güncelledik; yeni faturanız e-posta adresinize gönderildi. İyi günler dileriz.",
    "Could you send a photo of the label on the box? It helps us file the claim with the carrier.",
    "Ürün elime ulaştı, ilginiz için çok teşekkür ederim. Talebi kapatabilirsiniz.",
]

TICKET_COLUMNS = (
    "id", "number", "subject", "subject_key", "requester", "status", "priority", "channel", "team", "assignee",
    "language", "reply_key", "version", "created_at", "updated_at", "first_response_at", "solved_at",
    "closed_at", "sla_breached", "due_at",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "ticket", "author_kind", "author_customer", "author_staff", "author_name", "body", "public", "channel",
    "created_at",
)  # fmt: skip
CUSTOMER_COLUMNS = ("id", "email", "email_key", "name", "locale", "session_version", "created_at", "updated_at")


def heavy_number(k: int, n: int) -> int:
    """The ticket number of heavy ticket ``k`` (0-based): open tickets are every tenth."""
    return 10 * k + 1


# --- generating ---------------------------------------------------------------------------------


def _batches(
    n: int, customers: list[int], teams: list[int], agents: list[int], heavy: int
) -> Iterator[tuple[list[tuple], list[tuple]]]:
    rng = random.Random(4)
    subjects = [(s, search_fold(s)) for s in SUBJECTS]
    tickets: list[tuple] = []
    messages: list[tuple] = []
    heavy_numbers = {heavy_number(k, n) for k in range(heavy)}
    for i in range(1, n + 1):
        is_open = i % 10 == 1  # 10% open
        created = EPOCH - timedelta(minutes=(n - i) * 2)
        status = rng.choice(OPEN) if is_open else ("closed" if rng.random() < 0.7 else "solved")
        subject, key = rng.choice(subjects)
        requester = customers[i % len(customers)]
        team = teams[i % len(teams)] if rng.random() < 0.9 else None
        assignee = agents[(i // 10) % len(agents)] if rng.random() < 0.6 else None  # open ones spread too
        due = None
        if is_open and rng.random() < 0.9:
            due = EPOCH + timedelta(minutes=rng.randint(-600, 3 * 24 * 60))
        count = 50 if i in heavy_numbers else 1 + i % 9  # 5 on average
        updated = created + timedelta(minutes=count * 7)
        solved = updated if status in ("solved", "closed") else None
        tickets.append((
            i, i, subject, key, requester, status, rng.choice(("low", "normal", "normal", "high", "urgent")),
            rng.choice(("portal", "email", "form", "phone", "api")), team, assignee, "tr", f"{i:016x}",
            1 + count, created, updated, created + timedelta(minutes=7) if count > 1 else None, solved,
            solved if status == "closed" else None, False, due,
        ))  # fmt: skip
        for m in range(count):
            from_customer = m % 2 == 0
            note = not from_customer and m % 6 == 5
            messages.append((
                i, "customer" if from_customer else "staff", requester if from_customer else None,
                None if from_customer else agents[(i + m) % len(agents)],
                "Müşteri" if from_customer else "Temsilci", BODIES[(i + m) % len(BODIES)], not note,
                "portal", created + timedelta(minutes=m * 7),
            ))  # fmt: skip
        if len(tickets) == BATCH:
            yield tickets, messages
            tickets, messages = [], []
    if tickets:
        yield tickets, messages


def _sql_value(value: object) -> object:
    """What Piccolo's SQLite adapters store: timestamps as text, booleans as 0/1."""
    if isinstance(value, datetime):
        return str(value)
    return value


def _insert(table: str, columns: tuple[str, ...], mark: str) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join([mark] * len(columns))})'  # noqa: S608


def _customers(n: int, start: int) -> list[tuple]:
    return [
        (start + c, f"r{c}@bench.example", email_key(f"r{c}@bench.example"), f"Müşteri {c}", "tr", 0, EPOCH, EPOCH)
        for c in range(n)
    ]


def generate_sqlite(url: str, n: int, customers: int, heavy: int, advance: Callable[[int], None],
                    requesters: list[int] | None = None) -> None:
    """``customers`` new requesters, or the existing customers ``requesters`` when given."""
    conn = sqlite3.connect(sqlite_path(url))
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")
        teams = [r[0] for r in conn.execute("SELECT id FROM team ORDER BY id")]
        agents = [r[0] for r in conn.execute("SELECT id FROM staff_user ORDER BY id")]
        if requesters is None:
            start = conn.execute("SELECT COALESCE(MAX(id), 0) FROM customer").fetchone()[0] + 1
            rows = _customers(customers, start)
            with conn:
                conn.executemany(_insert("customer", CUSTOMER_COLUMNS, "?"),
                                 [tuple(map(_sql_value, r)) for r in rows])
            requesters = [r[0] for r in rows]
        for tickets, messages in _batches(n, requesters, teams, agents, heavy):
            with conn:
                conn.executemany(_insert("ticket", TICKET_COLUMNS, "?"), [tuple(map(_sql_value, r)) for r in tickets])
                conn.executemany(
                    _insert("ticket_message", MESSAGE_COLUMNS, "?"), [tuple(map(_sql_value, r)) for r in messages]
                )
            advance(len(tickets))
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def generate_postgres(url: str, n: int, customers: int, heavy: int, advance: Callable[[int], None],
                            requesters: list[int] | None = None) -> None:
    """``customers`` new requesters, or the existing customers ``requesters`` when given."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        teams = [r["id"] for r in await conn.fetch("SELECT id FROM team ORDER BY id")]
        agents = [r["id"] for r in await conn.fetch("SELECT id FROM staff_user ORDER BY id")]
        if requesters is None:
            start = await conn.fetchval("SELECT COALESCE(MAX(id), 0) FROM customer") + 1
            rows = _customers(customers, start)
            await conn.copy_records_to_table("customer", columns=list(CUSTOMER_COLUMNS), records=rows)
            requesters = [r[0] for r in rows]
        for tickets, messages in _batches(n, requesters, teams, agents, heavy):
            async with conn.transaction():
                await conn.copy_records_to_table("ticket", columns=list(TICKET_COLUMNS), records=tickets)
                await conn.copy_records_to_table("ticket_message", columns=list(MESSAGE_COLUMNS), records=messages)
            advance(len(tickets))
        for table in ("customer", "ticket"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )
        # The app numbers new tickets 1000 + nextval('ticket_number_seq'): past the copied ones.
        await conn.execute("SELECT setval('ticket_number_seq', GREATEST(MAX(number) - 1000, 1)) FROM ticket")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def _create_staff() -> None:
    """Run in its own process with the portal's environment: teams and agents via the service."""
    from portal import db
    from portal.accounts import service
    from portal.security import Passwords
    from portal.settings import Settings

    engine = db.make_engine(Settings.from_env())
    db.bind(engine)
    await db.start(engine)
    try:
        for slug, name_tr, name_en in TEAMS:
            await service.ensure_team(slug, name_tr=name_tr, name_en=name_en)
        hashed = await Passwords().hash(AGENT_PASSWORD)
        for k in range(AGENTS):
            email = AGENT_EMAIL if k == 0 else f"agent{k}@bench.example"
            await service.create_staff(email=email, name=f"Temsilci {k}", role="admin" if k == 0 else "agent",
                                       password_hash=hashed, now=EPOCH, team=TEAMS[k % len(TEAMS)][0])
    finally:
        await db.stop(engine)


def create_staff(url: str, folder: Path) -> None:
    """Teams and agents (the benchmark agent logs in), in a process with the portal's environment."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.tickets", "--create-staff"],
        env=portal_env(url, folder, "http://x"), cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"creating the agents failed:\n{done.stdout}\n{done.stderr}")


def generate(engine: str, url: str, folder: Path, n: int, customers: int, heavy: int) -> float:
    create_staff(url, folder)
    started = time.monotonic()
    columns = (TextColumn(f"[bold]{engine}[/]: tickets (5 messages each)"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("tickets", total=n)

        def advance(k: int) -> None:
            progress.advance(task, k)

        if engine == "sqlite":
            generate_sqlite(url, n, customers, heavy, advance)
        else:
            asyncio.run(generate_postgres(url, n, customers, heavy, advance))
    return time.monotonic() - started


# --- plans ------------------------------------------------------------------------------------------


def explain(engine: str, url: str, folder: Path) -> str:
    """The plans of the queue's queries, as the app builds them (``python -m bench.tickets --explain-inner``)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.tickets", "--explain-inner"],
        env=portal_env(url, folder, "http://x"), cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if done.returncode:
        return f"EXPLAIN failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


async def _explain_inner() -> None:
    from zoneinfo import ZoneInfo

    from portal import db
    from portal.settings import Settings
    from portal.tickets import queue as q
    from portal.tickets.tables import Ticket

    settings = Settings.from_env()
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine)
    sqlite = db.is_sqlite()
    try:
        staff = await db.fetch_one('SELECT "id" FROM "staff_user" WHERE "email" = {}', AGENT_EMAIL)
        teams = {r["id"] for r in await Ticket.raw("SELECT id FROM team")}
        for view in q.VIEWS:
            started = time.perf_counter()
            await q.queue(q.Filters(view=view), staff_id=staff["id"], team_ids=teams, now=EPOCH,
                          tz=ZoneInfo("Europe/Istanbul"))
            ms = (time.perf_counter() - started) * 1000
            sql, args = q.queue_sql(q.Filters(view=view).clean(), staff_id=staff["id"], team_ids=teams, now=EPOCH,
                                    tz=ZoneInfo("Europe/Istanbul"))
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
            rows = await db.fetch_all(prefix + sql, *args)
            print(f"--- view {view}: {ms:.1f} ms (one call, cold-ish)")
            for row in rows:
                print("   ", row.get("detail") or row.get("QUERY PLAN") or row)
    finally:
        await db.stop(engine)


# --- loading --------------------------------------------------------------------------------------


def ticket_page_lua(heavy: int, n: int) -> str:
    """A random one of the heavy tickets (50 messages each) per request."""
    return (
        f"""
request = function()
  local k = math.random(0, {heavy - 1})
  return wrk.format("GET", string.format("/staff/tickets/T-%d", 10 * k + 1))
end
"""
        + REPORT_LUA
    )


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
    env = {k: v for k, v in portal_env(url, folder, "http://127.0.0.1").items() if not k.startswith("PORTAL_")}
    with serving(config, BARE_FACTORY, env, work / "bare.log", "/plaintext") as base:
        for c in args.connections:
            bare[c] = load(base + "/plaintext", report_lua, c)
            rows.append((engine, "bare /plaintext", c, bare[c], 1.0))
    portal = portal_env(url, folder, "http://127.0.0.1")
    with serving(config, PORTAL_FACTORY, portal, folder / "portal.log", "/healthz") as base:
        cookie = log_in(base, AGENT_EMAIL, AGENT_PASSWORD, path="/staff/login")
        headers = {"Cookie": cookie}
        page_lua = work / f"ticket-{engine}.lua"
        page_lua.write_text(ticket_page_lua(args.heavy, args.tickets))
        for path in ("/staff/queue", f"/staff/tickets/T-{heavy_number(0, args.tickets)}"):
            first = check_page(base, path, cookie)
            if first.status_code != 200:
                raise RuntimeError(f"{path} answered {first.status_code}; see {folder / 'portal.log'}")
        queue_rows = check_page(base, "/staff/queue", cookie).text.count('name="ids"')
        console.print(f"{engine}: the queue's first page lists {queue_rows} tickets")
        for c in args.connections:
            result = load(base + "/staff/queue", report_lua, c, headers)
            rows.append((engine, "/staff/queue (all open, due)", c, result, result.rps / bare[c].rps))
            result = load(base + "/", page_lua, c, headers)
            rows.append((engine, "/staff/tickets/{ref} (50 msgs)", c, result, result.rps / bare[c].rps))
        if check_page(base, "/staff/queue", cookie).status_code != 200:
            raise RuntimeError("/staff/queue stopped answering 200 during the load")
    return rows


def print_table(rows: list[tuple], title: str) -> None:
    table = Table(title=f"tickets benchmark ({title}; share = requests/s ÷ bare plaintext, same run)")
    for name in ("db", "endpoint", "conn", "req/s", "p50 ms", "p99 ms", "non-2xx", "share"):
        table.add_column(name, justify="right" if name not in ("db", "endpoint") else "left")
    for engine, label, c, r, share in rows:
        table.add_row(engine, label, str(c), f"{r.rps:,.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}",
                      str(r.non2xx + r.socket_errors), f"{share:.1%}")  # fmt: skip
    console.print(table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.tickets", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--db", default="both", choices=["sqlite", "postgres", "both"])
    p.add_argument("--tickets", type=int, default=1_000_000, help="tickets on PostgreSQL (default 1,000,000)")
    p.add_argument("--sqlite-tickets", type=int, default=100_000, help="tickets on SQLite (default 100,000)")
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--heavy", type=int, default=200, help="open tickets with exactly 50 messages")
    p.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")], default=[8],
                   help="wrk connection counts, comma-separated (default 8)")  # fmt: skip
    p.add_argument("--duration", type=int, default=10, help="seconds of load per cell")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    p.add_argument("--explain", action="store_true", help="print the query plans of the queue's views")
    p.add_argument("--generate-only", action="store_true", help="fill the databases, measure nothing")
    p.add_argument("--create-staff", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--explain-inner", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.create_staff or args.explain_inner:
        try:
            asyncio.run(_create_staff() if args.create_staff else _explain_inner())
        except BaseException:
            traceback.print_exc()
            sys.stdout.flush()
            os._exit(1)
        return
    if not args.generate_only:
        which_wrk()
    engines = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-tickets-") as tmp:
        work = Path(tmp)
        for engine in engines:
            folder = work / engine
            folder.mkdir()
            n = args.sqlite_tickets if engine == "sqlite" else args.tickets
            with database(engine, folder) as url:
                seconds = generate(engine, url, folder, n, min(args.customers, n), args.heavy)
                console.print(f"{engine}: {n:,} tickets and about {5 * n:,} messages in {seconds:.1f} s "
                              f"({n / seconds:,.0f} tickets/s)")  # fmt: skip
                if args.explain:
                    console.print(explain(engine, url, folder), markup=False, highlight=False)
                if not args.generate_only:
                    rows.extend(measure(args, engine, url, folder, work))
    if rows:
        print_table(rows, f"{args.server} {args.workers}w, {args.tickets:,} tickets on PostgreSQL, "
                          f"{args.sqlite_tickets:,} on SQLite")  # fmt: skip


if __name__ == "__main__":
    main()
