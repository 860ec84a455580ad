"""``python -m bench.sla``: the SLA warning/breach job's time per run on PostgreSQL with
1,000,000 tickets of which 100,000 open.

1. A fresh PostgreSQL database (``bench.servers.database``: migrated, one customer), a team
   with a lead and an agent, then ``--tickets`` tickets (``--open`` of them open) and their
   ``ticket_sla`` rows written with ``COPY`` (asyncpg ``copy_records_to_table``). Closed
   tickets have met targets (no alarm); each open ticket has a first-response and a
   resolution target whose warning and breach alarms are spread over ±30 days around EPOCH.
2. ``portal.sla.alerts.run(now)`` as the worker calls it every pass: ``--runs`` passes one
   minute apart (the steady state: a few alarms come due each minute), then a pass after an
   hour's backlog, then a pass with nothing due. Each alarm that fires writes its ticket
   event and its mail (outbox) in the same transaction, as in production.
3. Prints the time per pass (median, p95, max), alarms fired, and the claim query's plan.

Target (issue 5): under one second per run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from bench.servers import database

EPOCH = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BATCH = 50_000
SPREAD = timedelta(days=30)


def _ticket_rows(start: int, count: int, open_every: int, team: int, agent: int, rng: random.Random):
    tickets, targets = [], []
    for i in range(start, start + count):
        is_open = i % open_every == 0
        created = EPOCH - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
        tickets.append((i, 1000 + i, f"Bench {i}", f"bench {i}", 1, "open" if is_open else "closed", "normal",
                        "portal", team, agent, "tr", f"k{i:011d}", 1, created, created, 1))
        if is_open:
            for target in ("first_response", "resolution"):
                due = EPOCH + timedelta(seconds=rng.randint(-int(SPREAD.total_seconds()), int(SPREAD.total_seconds())))
                warn = due - timedelta(minutes=48)
                # Already past: announced long ago (no alarm left); ahead: still to fire.
                next_warn = warn if warn > EPOCH else None
                next_breach = due if due > EPOCH else None
                targets.append((i, target, 1, 60, created, due, warn, None, False, 0,
                                None if next_warn else warn, None if next_breach else due, next_warn, next_breach,
                                created))
        else:
            targets.append((i, "resolution", 1, 480, created, created + timedelta(hours=8),
                            created + timedelta(hours=6), created + timedelta(hours=2), False, 7200, None, None,
                            None, None, created))
    return tickets, targets


TICKET_COLUMNS = ["id", "number", "subject", "subject_key", "requester", "status", "priority", "channel", "team",
                  "assignee", "language", "reply_key", "version", "created_at", "updated_at", "sla_policy_id"]
SLA_COLUMNS = ["ticket", "target", "policy_id", "minutes", "start_at", "due_at", "warn_at", "met_at", "paused",
               "elapsed_seconds", "warned_at", "breached_at", "next_warn_at", "next_breach_at", "updated_at"]


async def generate(url: str, n: int, n_open: int) -> tuple[float, int]:
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        team = await conn.fetchval("INSERT INTO team (slug, name_tr, name_en, assignment, created_at) "
                                   "VALUES ('bench', 'Bench', 'Bench', 'round_robin', now()) RETURNING id")
        ids = []
        for email, role in (("lead@bench.test", "lead"), ("agent@bench.test", "agent")):
            ids.append(await conn.fetchval(
                "INSERT INTO staff_user (email, email_key, name, role, locale, available, active, session_version,"
                " created_at) VALUES ($1, $1, $2, $3, 'tr', true, true, 0, now()) RETURNING id", email, role, role))
            await conn.execute("INSERT INTO team_member (team, staff, is_lead) VALUES ($1, $2, $3)", team, ids[-1],
                               role == "lead")
        await conn.execute("INSERT INTO sla_policy (name, position, active, priorities, team_ids, form_slugs, "
                           "channels, segments, first_response_minutes, resolution_minutes, warn_percent, "
                           "pause_on_hold, calendar, created_at) SELECT 'Bench', 1, true, '', '', '', '', '', 60, 480,"
                           " 80, false, id, now() FROM sla_calendar LIMIT 1")
        rng = random.Random(5)
        open_every = max(n // max(n_open, 1), 1)
        for start in range(1, n + 1, BATCH):
            tickets, targets = _ticket_rows(start, min(BATCH, n - start + 1), open_every, team, ids[1], rng)
            async with conn.transaction():
                await conn.copy_records_to_table("ticket", columns=TICKET_COLUMNS, records=tickets)
                await conn.copy_records_to_table("ticket_sla", columns=SLA_COLUMNS, records=targets)
            print(f"\r  {start + len(tickets) - 1:>9,} tickets", end="", flush=True)
        print()
        await conn.execute("SELECT setval('ticket_id_seq', (SELECT max(id) FROM ticket))")
        await conn.execute("SELECT setval('ticket_number_seq', GREATEST(MAX(number) - 1000, 1)) FROM ticket")
        await conn.execute("VACUUM (ANALYZE) ticket_sla")  # as autovacuum would: visibility map, statistics
        await conn.execute("VACUUM (ANALYZE) ticket")
        await conn.execute("CHECKPOINT")  # the bulk load's writes are not the job's to pay for
        open_count = await conn.fetchval("SELECT count(*) FROM ticket WHERE status = 'open'")
    finally:
        await conn.close()
    return time.perf_counter() - started, open_count


async def measure(url: str, runs: int) -> None:
    from portal import db
    from portal.mail import service as mail_service
    from portal.settings import Settings
    from portal.sla import alerts

    settings = Settings(database_url=url, secret_key="x" * 40, var_dir=Path(tempfile.gettempdir()))
    mail_service.configure(base_url=settings.base_url, mail_from=settings.mail_from)
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine, pool_size=4)
    try:
        await alerts.run(EPOCH)  # warm up (pool, query plans) and compile the mail templates
        for template in ("sla-warn", "sla-breach"):
            mail_service.render(template, "tr", {"ticket_ref": "T-1", "subject": "", "target": "resolution",
                                                 "due_at": EPOCH, "priority": "normal", "recipient_name": ""})
        times, fired = [], 0
        for k in range(1, runs + 1):
            t0 = time.perf_counter()
            fired += await alerts.run(EPOCH + timedelta(minutes=k))
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        backlog = await alerts.run(EPOCH + timedelta(minutes=runs + 60))
        backlog_time = time.perf_counter() - t0
        idle, idle_times = 0, []
        for _ in range(20):
            t0 = time.perf_counter()
            idle += await alerts.run(EPOCH + timedelta(minutes=runs + 60))
            idle_times.append(time.perf_counter() - t0)
        idle_time = statistics.median(idle_times)
        plan = await engine.run_querystring(__import__("piccolo.querystring", fromlist=["QueryString"]).QueryString(
            "EXPLAIN SELECT s.id FROM ticket_sla s JOIN ticket t ON t.id = s.ticket WHERE s.next_breach_at <= {} "
            "ORDER BY s.next_breach_at LIMIT 200 FOR UPDATE OF s, t SKIP LOCKED", EPOCH + timedelta(minutes=runs)))
        outbox = await engine.run_querystring(__import__("piccolo.querystring", fromlist=["QueryString"]).QueryString(
            "SELECT count(*) AS n FROM outbox"))
    finally:
        await db.stop(engine)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"  passes one minute apart: {runs}, alarms fired: {fired} ({fired / runs:.1f} per pass)")
    print(f"  time per pass: median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
          f"max {times[-1] * 1000:.1f} ms")
    print(f"  after an hour's backlog: {backlog} alarms in {backlog_time * 1000:.1f} ms")
    print(f"  nothing due (20 passes): {idle} alarms, median {idle_time * 1000:.1f} ms per pass")
    print(f"  mails queued: {outbox[0]['n']}")
    print("  claim plan:")
    for row in plan:
        print("    " + row["QUERY PLAN"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work, database("postgres", Path(work)) as url:
        print(f"PostgreSQL: {args.tickets:,} tickets, {args.open:,} open "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        took, open_count = asyncio.run(generate(url, args.tickets, args.open))
        print(f"  generated in {took:.1f} s ({open_count:,} open)")
        asyncio.run(measure(url, args.runs))


if __name__ == "__main__":
    main()
