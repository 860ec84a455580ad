"""``python -m bench.forms``: sustained request-form submissions per second, beside the bare
framework endpoint.

1. A fresh database per engine (``bench.servers.database``) with one form, ``bench``
   (name, e-mail, subject, message; a team, tags; limits high enough not to refuse the load).
2. Signed form tokens are made up front with the server's secret, issued ten seconds in the
   past (a post must come at least three seconds after its token), one per request: wrk's Lua
   script sends ``POST /api/v1/forms/bench/submissions`` with JSON bodies each from another
   visitor (one address gets at most 5 requests a day), each with a token of its own, so every
   request opens a real ticket: the submission row, the requester found or created, the ticket
   with its first message and event, tags, the routing and SLA hooks, and the confirmation mail in the outbox.
3. Prints requests/s, p50 and p99 for the bare ``/plaintext`` app and for the submissions, and
   checks that the database holds exactly one ticket and one outbox mail per request.

The database also holds one active routing rule that matches the form's tickets (a word in the
subject: priority high and a tag) and an SLA policy for the form channel in the default business
calendar, so the routing and SLA hooks do their real work on every submission.

``--inprocess`` measures without a server or wrk: the app is called through raw ASGI in one
process, ``--calls`` submissions in batches, and it prints the median CPU time
(``time.process_time``, so waiting for a busy machine does not count) and wall time per
submission, and the SQL queries per submission (``engine.query_count``); ``--profile`` adds a
cProfile of the loop (``PSORT=tottime|cumulative``, ``PN`` lines).

Target (issue 6): at least 500 submissions/s with p99 under 50 ms at 16 concurrent clients.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.servers import (
    BARE_FACTORY,
    PORTAL_FACTORY,
    REPORT_LUA,
    ServerConfig,
    database,
    portal_env,
    run_wrk,
    serving,
    which_wrk,
)

console = Console()
ROOT = Path(__file__).resolve().parent.parent

_SETUP = """
import asyncio
from portal import db
from portal.accounts.service import ensure_team
from portal.clock import now
from portal.forms import service
from portal.forms.demo import CONTACT
from portal.forms.fields import parse_definition
from portal.routing import service as routing
from portal.settings import Settings
from portal.sla.tables import BusinessCalendar, SlaPolicy

async def main():
    engine = db.make_engine(Settings.from_env())
    db.bind(engine)
    await db.start(engine)
    try:
        team = await ensure_team("destek")
        form_id = await service.create_form(service.FormInput(
            slug="bench", name_tr="İletişim", name_en="Contact", fields=parse_definition({"fields": CONTACT}),
            team_id=team["id"], tags=["iletisim"], ticket_type="question", origins=["http://localhost:*"],
            per_address_limit=100_000, per_form_limit=1_000_000), now=now())
        await routing.create_rule(routing.RuleData(
            name="Sipariş soruları", conditions={"channels": ["form"], "words": ["sipariş"]},
            set_priority="high", add_tags=["siparis"]), now=now())
        calendar = await BusinessCalendar.select(BusinessCalendar.id).where(
            BusinessCalendar.is_default == True).first()  # noqa: E712
        await SlaPolicy.insert(SlaPolicy(name="Formlar", position=1, channels="form", first_response_minutes=240,
                                         next_response_minutes=480, resolution_minutes=2880,
                                         calendar=calendar["id"], created_at=now()))
        print("FORM", form_id)
    finally:
        await db.stop(engine)

asyncio.run(main())
"""

_COUNT = """
import asyncio, json
from portal import db
from portal.settings import Settings

async def main():
    engine = db.make_engine(Settings.from_env())
    db.bind(engine)
    await db.start(engine)
    try:
        from portal.mail.tables import Outbox
        from portal.tickets.tables import Ticket
        from portal.forms.tables import Submission
        print("COUNT", json.dumps({"tickets": await Ticket.count(), "mails": await Outbox.count(),
                                    "submissions": await Submission.count()}))
    finally:
        await db.stop(engine)

asyncio.run(main())
"""


def _run(script: str, env: dict[str, str], marker: str) -> str:
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    for line in done.stdout.splitlines():
        if line.startswith(marker + " "):
            return line[len(marker) + 1:]
    raise RuntimeError(f"{marker} failed:\n{done.stdout}\n{done.stderr}")


def submissions_lua(path: str, tokens: list[str], offset: int) -> str:
    return (
        f"""
local tokens = {{{json.dumps(tokens)[1:-1]}}}
local n = 0
local head = {{["Content-Type"] = "application/json", ["Accept-Language"] = "tr"}}
request = function()
  n = n + 1
  local i = (n - 1) % #tokens + 1
  local who = n + {offset}
  local body = '{{"name": "Ziyaretçi ' .. who .. '", "email": "ziyaretci' .. who .. '@example.com", ' ..
    '"subject": "Siparişim nerede ' .. n .. '", "message": "Merhaba, siparişimin durumunu öğrenmek istiyorum.", ' ..
    '"token": "' .. tokens[i] .. '"}}'
  return wrk.format("POST", "{path}", head, body)
end
"""
        + REPORT_LUA
    )


def make_tokens(secret: str, form_id: int, count: int) -> list[str]:
    from portal.clock import now
    from portal.forms import tokens

    issued = now() - timedelta(seconds=10)
    return [tokens.issue(secret, form_id, now=issued) for _ in range(count)]


def measure(args: argparse.Namespace, engine: str, url: str, folder: Path, work: Path) -> list[tuple]:
    config = ServerConfig(args.server, args.workers)
    report_lua = work / "report.lua"
    report_lua.write_text(REPORT_LUA)
    rows: list[tuple] = []
    env = portal_env(url, folder, "http://127.0.0.1")
    form_id = int(_run(_SETUP, env, "FORM"))
    bare_env = {k: v for k, v in env.items() if not k.startswith("PORTAL_")}
    with serving(config, BARE_FACTORY, bare_env, work / "bare.log", "/plaintext") as base:
        for c in args.connections:
            if args.warmup:
                run_wrk(base + "/plaintext", seconds=args.warmup, connections=c, threads=1, lua=report_lua)
            rows.append((engine, "bare /plaintext", c,
                         run_wrk(base + "/plaintext", seconds=args.duration, connections=c, threads=1,
                                 lua=report_lua)))
    sent = 0
    with serving(config, PORTAL_FACTORY, env, folder / "portal.log", "/healthz") as base:
        for c in args.connections:
            for phase, seconds in (("warmup", args.warmup), ("measure", args.duration)):
                if not seconds:
                    continue
                count = int(args.max_rate * seconds * 1.5) + 100
                lua = work / f"submit-{engine}-{c}-{phase}.lua"
                lua.write_text(submissions_lua("/api/v1/forms/bench/submissions",
                                               make_tokens(env["PORTAL_SECRET_KEY"], form_id, count), sent))
                result = run_wrk(base + "/", seconds=seconds, connections=c, threads=1, lua=lua)
                if result.requests > count:
                    raise RuntimeError("more requests than tokens: raise --max-rate")
                sent += result.requests
                if phase == "measure":
                    rows.append((engine, "POST /api/v1/forms/{slug}/submissions", c, result))
    counts = json.loads(_run(_COUNT, env, "COUNT"))
    console.print(f"[{engine}] {sent:,} submissions sent; in the database: {counts['tickets']:,} tickets, "
                  f"{counts['submissions']:,} submissions, {counts['mails']:,} outbox mails")
    if not counts["tickets"] == counts["submissions"] == counts["mails"]:
        console.print(f"[red][{engine}] tickets, submissions and mails differ[/red]")
    return rows


_INNER = """
import asyncio, sys
from bench.forms import inprocess_inner
asyncio.run(inprocess_inner(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"))
"""


def _asgi_post(path: str, body: bytes) -> tuple[dict, Any]:
    headers = [(b"host", b"127.0.0.1"), (b"user-agent", b"bench"), (b"content-type", b"application/json"),
               (b"accept-language", b"tr"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    return scope, receive


async def inprocess_inner(form_id: int, calls: int, profile: bool) -> None:
    """Run by ``--inprocess`` in a process with the benchmark's environment."""
    import os
    import statistics
    import time

    from portal import db
    from portal.app import create_app
    from portal.settings import Settings

    secret = Settings.from_env().secret_key
    app = create_app()
    batch = 50
    made = iter(make_tokens(secret, form_id, calls + 2 * batch))
    sent = 0

    async def submit() -> None:
        nonlocal sent
        sent += 1
        body = json.dumps({"name": f"Ziyaretçi {sent}", "email": f"ziyaretci{sent}@example.com",
                           "subject": f"Siparişim nerede {sent}",
                           "message": "Merhaba, siparişimin durumunu öğrenmek istiyorum.",
                           "token": next(made)}).encode()
        scope, receive = _asgi_post("/api/v1/forms/bench/submissions", body)
        status: list[int] = []

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        if status[0] != 201:
            raise RuntimeError(f"submission answered {status[0]}")

    async with app.lifespan():
        for _ in range(2 * batch):  # warm up: templates, statements, caches
            await submit()
        engine = db.current_engine()
        queries = engine.query_count
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu_us, wall_us = [], []
        for _ in range(max(1, calls // batch)):
            started, cpu = time.perf_counter(), time.process_time()
            for _ in range(batch):
                await submit()
            wall_us.append((time.perf_counter() - started) / batch * 1e6)
            cpu_us.append((time.process_time() - cpu) / batch * 1e6)
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ.get("PSORT", "tottime")).print_stats(
                int(os.environ.get("PN", "45")))
        per = (engine.query_count - queries) / (len(cpu_us) * batch)
        print(f"INPROCESS CPU {statistics.median(cpu_us):,.0f} µs, wall {statistics.median(wall_us):,.0f} µs, "
              f"{per:.1f} queries per submission ({len(cpu_us) * batch} submissions, median of {len(cpu_us)} "
              f"batches of {batch})")


def inprocess(args: argparse.Namespace, engine: str, url: str, folder: Path) -> None:
    env = portal_env(url, folder, "http://127.0.0.1")
    form_id = int(_run(_SETUP, env, "FORM"))
    done = subprocess.run([sys.executable, "-c", _INNER, str(form_id), str(args.calls), "1" if args.profile else "0"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"in-process run failed:\n{done.stdout}\n{done.stderr}")
    for line in done.stdout.splitlines():
        if line.startswith("INPROCESS "):
            print(f"{engine}: {line[len('INPROCESS '):]}")
        elif args.profile:
            print(line)
    counts = json.loads(_run(_COUNT, env, "COUNT"))
    if not counts["tickets"] == counts["submissions"] == counts["mails"]:
        console.print(f"[red][{engine}] tickets, submissions and mails differ: {counts}[/red]")


def print_table(rows: list[tuple], title: str) -> None:
    table = Table(title=title)
    for name in ("db", "endpoint", "conn", "req/s", "p50 ms", "p99 ms", "non-2xx"):
        table.add_column(name, justify="right" if name not in ("db", "endpoint") else "left")
    for engine, label, c, r in rows:
        table.add_row(engine, label, str(c), f"{r.rps:,.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}",
                      str(r.non2xx + r.socket_errors))
    console.print(table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.forms", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default="both", choices=["sqlite", "postgres", "both"])
    p.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")], default=[16],
                   help="wrk connection counts, comma-separated (default 16)")
    p.add_argument("--duration", type=int, default=10, help="seconds of load per cell")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    p.add_argument("--max-rate", type=int, default=3000, help="tokens made per second of load")
    p.add_argument("--inprocess", action="store_true",
                   help="no server: CPU µs and queries per submission through raw ASGI calls")
    p.add_argument("--calls", type=int, default=1000, help="submissions measured with --inprocess")
    p.add_argument("--profile", action="store_true", help="with --inprocess: print a cProfile of the loop")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    engines = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if args.inprocess:
        with tempfile.TemporaryDirectory(prefix="portal-bench-forms-") as tmp:
            for engine in engines:
                folder = Path(tmp) / engine
                folder.mkdir()
                with database(engine, folder) as url:
                    inprocess(args, engine, url, folder)
        return
    which_wrk()
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-forms-") as tmp:
        work = Path(tmp)
        for engine in engines:
            folder = work / engine
            folder.mkdir()
            with database(engine, folder) as url:
                rows += measure(args, engine, url, folder, work)
    print_table(rows, f"Request-form submissions ({args.server}, {args.workers} workers)")


if __name__ == "__main__":
    main()
