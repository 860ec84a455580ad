"""``python -m bench`` (``make bench``): the portal at a chosen scale, measured against its targets.

1. Data: one database per engine (``--db sqlite,postgres``) filled at ``--scale``
   (``small``: 2,000 customers, 10,000 orders, 10,000 tickets, 1,000 articles; ``large``:
   100,000 customers, 100,000 orders, 1,000,000 tickets, about 5,000,000 messages, 50,000
   articles) by the feature benchmarks' generators (``bench.dataset``): ``COPY`` on
   PostgreSQL, batched inserts on SQLite, progress bars. The databases are kept
   (PostgreSQL ``portal_bench_<scale>``, SQLite ``<data-dir>/<scale>/sqlite/``); with
   ``--reuse`` a database that holds the scale is only migrated, not generated again.
2. Load: the bare Litestar plaintext app, then the portal, served the same way (``--server``,
   2 workers), each loaded with wrk from a separate process at 8 connections (16 for the
   form): home, ``/kb/search`` (random Turkish queries), ``POST /track`` (a random order with
   its e-mail), ``/orders/{number}`` logged in, a request-form submission (a signed token of
   its own per request), ``/staff/queue`` ("all open", nearest due first) and a staff ticket
   page with 50 messages. Then the order page again while 50 customers log in at once.
3. Report: requests/s, p50, p99, the share of the bare endpoint at the same connection count
   in the same run, the resident memory of every server process after the load, each figure
   against the issue's targets; written to the generated section of ``docs/performance.md``.

wrk shares the cores with the server: compare ratios within one run, not absolute numbers
across runs. The old server comparison (uvicorn against granian, 1–2 workers) is
``python -m bench.run``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from bench import dataset, forms, kb, orders, report, tickets
from bench.dataset import SCALES, Scale
from bench.run import write_generated
from bench.servers import (
    BARE_FACTORY,
    PORTAL_FACTORY,
    REPORT_LUA,
    ROOT,
    Result,
    ServerConfig,
    check_page,
    kept_database,
    log_in,
    portal_env,
    rss_by_process,
    run_wrk,
    serving,
    serving_process,
    which_wrk,
)
from bench.setup_db import EMAIL, PASSWORD

console = Console()

# The targets (issue 9), on this 2-core machine, measured in one run.
CUSTOMER_SHARE = 12.0  # % of plaintext, customer pages, both databases
QUEUE_SHARE = 6.0  # % of plaintext, /staff/queue
QUEUE_P99_MS = 50.0  # at 8 connections (the figure is for 1M tickets on PostgreSQL)
FORM_RPS = 500.0  # form submissions a second
BURST_P99_RATIO = 2.0  # a burst of 50 log-ins at most doubles the order page's p99
RSS_MB = 200.0  # per server process
BURST = dataset.BURST_ACCOUNTS
FORM_PATH = "/api/v1/forms/bench/submissions"


@dataclass
class Row:
    engine: str
    label: str
    connections: int
    result: Result
    share: float  # % of the bare endpoint at the same connection count, same run
    target: str = ""
    ok: bool | None = None  # None: no target

    @property
    def errors(self) -> int:
        return self.result.non2xx + self.result.socket_errors


@dataclass
class EngineRun:
    engine: str
    database: str  # the kept database: a PostgreSQL name or a SQLite path
    counts: dict[str, int]
    generated_s: float | None  # None: reused
    rows: list[Row] = field(default_factory=list)
    burst: str = ""
    rss: list[tuple[int, str, float]] = field(default_factory=list)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--scale", default="small", choices=sorted(SCALES), help="data to generate (default small)")
    p.add_argument(
        "--db",
        default="sqlite,postgres",
        type=lambda s: [e.strip() for e in s.split(",") if e.strip()],
        help="engines, comma-separated: sqlite, postgres (default both)",
    )
    p.add_argument("--reuse", action="store_true", help="keep a database that already holds the scale")
    p.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--connections", type=int, default=8, help="wrk connections per page (default 8)")
    p.add_argument("--form-connections", type=int, default=16, help="wrk connections for the form (default 16)")
    p.add_argument("--duration", type=int, default=10, help="seconds of load per page (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first (default 2)")
    p.add_argument("--max-rate", type=int, default=3000, help="form tokens made per second of load")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT / "var" / "bench",
        help="where SQLite databases and session files are kept (default var/bench)",
    )
    p.add_argument("--generate-only", action="store_true", help="fill the databases, measure nothing")
    p.add_argument("--output", default="docs/performance.md", help="page whose generated section is rewritten")
    p.add_argument("--no-write", action="store_true", help="print the table only")
    args = p.parse_args(argv)
    unknown = set(args.db) - {"sqlite", "postgres"}
    if unknown or not args.db:
        p.error(f"--db: sqlite and/or postgres, not {', '.join(sorted(unknown)) or 'nothing'}")
    return args


def pg_name(scale: Scale) -> str:
    return f"portal_bench_{scale.name}"


def prepare(engine: str, scale: Scale, data_dir: Path, *, reuse: bool) -> tuple[str, Path, float | None]:
    """The kept database of ``engine`` at ``scale``: ``(url, folder, generation seconds or None)``."""
    folder = data_dir / scale.name / engine
    url, existed = kept_database(engine, pg_name(scale), folder, keep=reuse)
    if existed and dataset.recorded_scale(engine, url) == scale.name:
        console.print(f"{engine}: reusing the {scale.name} database (migrated)")
        dataset.sync_ticket_numbers(engine, url)  # a migration may have added the sequence since
        return url, folder, None
    if existed:  # an interrupted generation: start again
        url, _ = kept_database(engine, pg_name(scale), folder, keep=False)
    seconds = dataset.generate(engine, url, folder, scale, console)
    console.print(f"{engine}: {scale.name} data generated in {seconds:,.0f} s")
    return url, folder, seconds


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    scale = SCALES[args.scale]
    if not args.generate_only:
        which_wrk()
    load_before = os.getloadavg()
    started = time.monotonic()
    runs: list[EngineRun] = []
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        for engine in args.db:
            url, folder, seconds = prepare(engine, scale, args.data_dir, reuse=args.reuse)
            where = pg_name(scale) if engine == "postgres" else str(folder / f"{pg_name(scale)}.sqlite3")
            run = EngineRun(engine, where, dataset.counts(engine, url), seconds)
            console.print(f"{engine}: " + ", ".join(f"{v:,} {k}" for k, v in run.counts.items()))
            if not args.generate_only:
                measure(args, scale, run, url, folder, Path(tmp))
            runs.append(run)
    if args.generate_only:
        return
    print_table(runs, args)
    if not args.no_write:
        out = ROOT / args.output
        write_generated(
            out,
            document(runs, args, load_before=load_before, load_after=os.getloadavg(),
                     minutes=(time.monotonic() - started) / 60),
        )  # fmt: skip
        console.print(f"written to {args.output}")


# --- measuring ------------------------------------------------------------------------------------


def measure(args: argparse.Namespace, scale: Scale, run: EngineRun, url: str, folder: Path, work: Path) -> None:
    config = ServerConfig(args.server, args.workers)
    engine = run.engine
    report_lua = work / "report.lua"
    report_lua.write_text(REPORT_LUA)
    c, fc = args.connections, args.form_connections

    def load(target: str, lua: Path, connections: int = c, headers: dict[str, str] | None = None) -> Result:
        if args.warmup:
            run_wrk(target, seconds=args.warmup, connections=connections, threads=1, lua=lua, headers=headers)
        return run_wrk(target, seconds=args.duration, connections=connections, threads=1, lua=lua,
                       headers=headers)  # fmt: skip

    env = portal_env(url, folder, "http://127.0.0.1")
    bare: dict[int, Result] = {}
    with serving(config, BARE_FACTORY, {k: v for k, v in env.items() if not k.startswith("PORTAL_")},
                 work / "bare.log", "/plaintext") as base:  # fmt: skip
        for n in sorted({c, fc}):
            console.print(f"{engine}: bare /plaintext, {n} connections")
            bare[n] = load(base + "/plaintext", report_lua, n)
            run.rows.append(Row(engine, "bare /plaintext", n, bare[n], 100.0))

    def add(label: str, result: Result, connections: int = c) -> Row:
        row = Row(engine, label, connections, result, 100.0 * result.rps / bare[connections].rps)
        run.rows.append(row)
        if row.errors:
            console.print(f"[red]{engine}: {label}: {row.errors:,} failed requests; see {folder / 'portal.log'}[/]")
        return row

    form_id = ensure_form(engine, url, env)
    log = folder / "portal.log"
    with serving_process(config, PORTAL_FACTORY, env, log, "/healthz") as (base, proc):
        cookie = log_in(base, EMAIL, PASSWORD)
        staff = log_in(base, tickets.AGENT_EMAIL, tickets.AGENT_PASSWORD, path="/staff/login")
        own_order = orders.number(scale.customers * max(1, scale.orders // scale.customers))
        heavy = f"/staff/tickets/T-{tickets.heavy_number(0, scale.tickets)}"
        for path, who in (("/", None), ("/kb/search?q=iade", None), (f"/orders/{own_order}", cookie),
                          ("/staff/queue", staff), (heavy, staff)):  # fmt: skip
            status = check_page(base, path, who).status_code
            if status != 200:
                raise RuntimeError(f"{engine}: {path} answered {status} before the load; see {log}")
        luas = {
            "kb": kb.search_lua("/kb/search", False, kb.TR_QUERIES),
            "track": orders.track_lua(scale.orders, scale.customers, orders.csrf_cookie(base)),
            "order": orders.order_page_lua(scale.orders, scale.customers),
            "ticket": tickets.ticket_page_lua(scale.heavy, scale.tickets),
        }
        paths = {}
        for name, text in luas.items():
            paths[name] = work / f"{name}-{engine}.lua"
            paths[name].write_text(text)
        tr = {"Accept-Language": "tr"}

        def step(label: str) -> None:
            console.print(f"{engine}: {label}")

        step("/ (home)")
        row = add("/ (home)", load(base + "/", report_lua))
        customer_target(row)
        step("/kb/search")
        customer_target(add("/kb/search?q=… (Turkish)", load(base + "/", paths["kb"], headers=tr)))
        step("POST /track")
        customer_target(add("POST /track (guest)", load(base + "/track", paths["track"])))
        step("/orders/{number}")
        order = add("/orders/{number} (logged in)", load(base + "/", paths["order"], headers={"Cookie": cookie}))
        customer_target(order)
        step(f"/orders/{{number}} with a burst of {BURST} log-ins")
        during, burst = load_with_burst(base, base + "/", paths["order"], {"Cookie": cookie}, args)
        burst_row = add(f"/orders/{{number}} during {BURST} log-ins", during)
        ratio = during.p99_ms / order.result.p99_ms if order.result.p99_ms else float("inf")
        burst_row.target = f"p99 ≤ {BURST_P99_RATIO:g}× without ({ratio:.2f}×)"
        burst_row.ok = ratio <= BURST_P99_RATIO
        run.burst = burst
        step("form submissions")
        form = add("POST form submission", submit_forms(args, base, env, form_id, work, engine), fc)
        form.target, form.ok = f"≥ {FORM_RPS:g} req/s", form.result.rps >= FORM_RPS
        step("/staff/queue")
        queue = add("/staff/queue (all open, due)", load(base + "/staff/queue", report_lua,
                                                         headers={"Cookie": staff}))  # fmt: skip
        queue.target = f"≥ {QUEUE_SHARE:g}%, p99 < {QUEUE_P99_MS:g} ms"
        queue.ok = queue.share >= QUEUE_SHARE and queue.result.p99_ms < QUEUE_P99_MS
        step("/staff/tickets/{ref}")
        add("/staff/tickets/{ref} (50 messages)", load(base + "/", paths["ticket"], headers={"Cookie": staff}))
        for path, who in ((f"/orders/{own_order}", cookie), ("/staff/queue", staff)):
            if check_page(base, path, who).status_code != 200:
                raise RuntimeError(f"{engine}: {path} stopped answering 200 during the load (session lost?)")
        run.rss = rss_by_process(proc)


def customer_target(row: Row) -> None:
    row.target, row.ok = f"≥ {CUSTOMER_SHARE:g}%", row.share >= CUSTOMER_SHARE


def ensure_form(engine: str, url: str, env: dict[str, str]) -> int:
    """The request form ``bench`` (``bench.forms``), made once per database."""
    found = dataset.fetch_value(engine, url, "SELECT id FROM request_form WHERE slug = 'bench'")
    return int(found) if found is not None else int(forms._run(forms._SETUP, env, "FORM"))


def submit_forms(
    args: argparse.Namespace, base: str, env: dict[str, str], form_id: int, work: Path, engine: str
) -> Result:
    """Form submissions as ``bench.forms`` sends them: each with a signed token of its own."""
    sent = 0
    result: Result | None = None
    for phase, seconds in (("warmup", args.warmup), ("measure", args.duration)):
        if not seconds:
            continue
        count = int(args.max_rate * seconds * 1.5) + 100
        lua = work / f"submit-{engine}-{phase}.lua"
        lua.write_text(forms.submissions_lua(FORM_PATH, forms.make_tokens(env["PORTAL_SECRET_KEY"], form_id, count),
                                             sent))  # fmt: skip
        result = run_wrk(base + "/", seconds=seconds, connections=args.form_connections, threads=1, lua=lua)
        if result.requests > count:
            raise RuntimeError("more form requests than tokens: raise --max-rate")
        sent += result.requests
    assert result is not None
    return result


def load_with_burst(
    base: str, target: str, lua: Path, headers: dict[str, str], args: argparse.Namespace
) -> tuple[Result, str]:
    """wrk on ``target`` while :data:`BURST` customers log in at once, one second into the run."""
    if args.warmup:
        run_wrk(target, seconds=args.warmup, connections=args.connections, threads=1, lua=lua, headers=headers)
    outcome: list[str] = []
    start_at = time.monotonic() + 1.0
    thread = threading.Thread(target=lambda: outcome.append(asyncio.run(login_burst(base, start_at))), daemon=True)
    thread.start()
    result = run_wrk(target, seconds=args.duration, connections=args.connections, threads=1, lua=lua,
                     headers=headers)  # fmt: skip
    thread.join(timeout=120)
    return result, outcome[0] if outcome else "the burst did not finish"


async def login_burst(base: str, start_at: float) -> str:
    """Each of the burst accounts fetches the log-in form, then all post it together."""
    clients = [httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=120) for _ in range(BURST)]
    try:
        await asyncio.gather(*(client.get("/login") for client in clients))
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        started = time.monotonic()

        async def one(k: int, client: httpx.AsyncClient) -> float:
            data = {"_csrf_token": client.cookies.get("portal_csrf") or "", "email": dataset.burst_email(k),
                    "password": PASSWORD}  # fmt: skip
            response = await client.post("/login", data=data)
            if response.status_code != 303:
                raise RuntimeError(f"a burst log-in answered {response.status_code}")
            return time.monotonic() - started

        times = sorted(await asyncio.gather(*(one(k, c) for k, c in enumerate(clients))))
        return (f"{BURST} log-ins (argon2) in {times[-1]:.2f} s; "
                f"the median one answered after {times[len(times) // 2]:.2f} s")  # fmt: skip
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


# --- reporting ------------------------------------------------------------------------------------


def _verdict(ok: bool | None, errors: int = 0) -> str:
    """Failed requests fail the row whatever its figures (a fast error page is no pass)."""
    if errors:
        return "FAIL (errors)"
    return "" if ok is None else ("pass" if ok else "FAIL")


def memory_ok(run: EngineRun) -> bool:
    return bool(run.rss) and all(mb < RSS_MB for _pid, _cmd, mb in run.rss)


def print_table(runs: list[EngineRun], args: argparse.Namespace) -> None:
    table = Table(title=f"python -m bench --scale {args.scale} ({args.server} {args.workers}w; "
                        "% = requests/s ÷ bare plaintext at the same connections, same run)")  # fmt: skip
    for name in ("db", "page", "conn", "req/s", "p50 ms", "p99 ms", "errors", "% bare", "target", ""):
        table.add_column(name, justify="left" if name in ("db", "page", "target") else "right")
    for run in runs:
        for r in run.rows:
            table.add_row(r.engine, r.label, str(r.connections), f"{r.result.rps:,.0f}", f"{r.result.p50_ms:.1f}",
                          f"{r.result.p99_ms:.1f}", str(r.result.non2xx + r.result.socket_errors),
                          f"{r.share:.1f}", r.target, _verdict(r.ok, r.errors))  # fmt: skip
        peak = max((mb for *_x, mb in run.rss), default=0.0)
        table.add_row(run.engine, "server process memory (largest RSS)", "", "", "", "", "", "",
                      f"< {RSS_MB:g} MB ({peak:.0f} MB)", _verdict(memory_ok(run)))  # fmt: skip
    (console if console.is_terminal else Console(width=200)).print(table)  # a log file: no wrapping
    for run in runs:
        console.print(f"{run.engine}: {run.burst}")


def markdown(runs: list[EngineRun]) -> str:
    lines = [
        "| db | page | conn | req/s | p50 ms | p99 ms | errors | % of bare | target | |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for run in runs:
        for r in run.rows:
            lines.append(
                f"| {r.engine} | `{r.label}` | {r.connections} | {r.result.rps:,.0f} | {r.result.p50_ms:.1f} | "
                f"{r.result.p99_ms:.1f} | {r.result.non2xx + r.result.socket_errors} | {r.share:.1f} | "
                f"{r.target} | {_verdict(r.ok, r.errors)} |"
            )
        peak = max((mb for *_x, mb in run.rss), default=0.0)
        lines.append(f"| {run.engine} | server process memory (largest RSS) | | | | | | | < {RSS_MB:g} MB "
                     f"({peak:.0f} MB) | {_verdict(memory_ok(run))} |")  # fmt: skip
    return "\n".join(lines)


def document(
    runs: list[EngineRun],
    args: argparse.Namespace,
    *,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    minutes: float,
) -> str:
    cmd = f"python -m bench --scale {args.scale} --db {','.join(args.db)} --server {args.server}"
    if args.workers != 2:
        cmd += f" --workers {args.workers}"
    cores = os.cpu_count() or 1
    peak_load = max(load_before[0], load_after[0])
    loads = [" / ".join(f"{x:.2f}" for x in load) for load in (load_before, load_after)]
    out = [f"## `{cmd}`", ""]
    if peak_load > 0.75 * cores:
        out += [f"> **The machine was busy** (load average {peak_load:.1f} on {cores} cores, from other "
                "processes than this benchmark): the figures are low and the ratios unreliable. Rerun on a "
                "quiet machine before quoting them.", ""]  # fmt: skip
    out += [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {minutes:.1f} minutes in all. "
        f"{args.server}, {args.workers} workers; each page {args.warmup} s of warm-up, then "
        f"`wrk -t1 -c{args.connections} -d{args.duration}s` ({args.form_connections} connections for the "
        "form). *% of bare* compares with the bare Litestar plaintext endpoint at the same connection "
        "count, measured just before the portal in the same run. *errors*: non-2xx answers and "
        "socket errors (must be 0).",
        "",
        *report.machine_facts(args.db),
        f"- load average (1/5/15 min) at the start: {loads[0]}, at the end: {loads[1]}",
        "",
        "### Data",
        "",
        "| db | database | customers | orders | tickets | messages | articles | generated |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        k = run.counts
        made = "reused (`--reuse`)" if run.generated_s is None else f"in {run.generated_s / 60:.1f} min"
        out.append(f"| {run.engine} | `{Path(run.database).name}` | {k['customers']:,} | {k['orders']:,} | "
                   f"{k['tickets']:,} | {k['messages']:,} | {k['articles']:,} | {made} |")  # fmt: skip
    out += ["", "### Pages", "", markdown(runs), ""]
    out += ["### Log-in burst and memory", ""]
    for run in runs:
        out.append(f"- {run.engine}: {run.burst}.")
        out.append(f"- {run.engine}, resident memory after the load: "
                   + "; ".join(f"{role} {mb:.0f} MB" for _pid, role, mb in run.rss) + ".")  # fmt: skip
    out += [
        "",
        "Targets (issue 9): customer pages ≥ 12% of plaintext on both databases; the staff queue ≥ 6% "
        "with p99 under 50 ms at 8 clients (the issue sets it for 1,000,000 tickets on PostgreSQL, "
        "`--scale large`); form submissions ≥ 500/s; a burst of 50 parallel log-ins at most doubles the "
        "order page's p99; each server process under 200 MB. The staff ticket page has no target of "
        "its own.",
    ]
    return "\n".join(out)
