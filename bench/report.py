"""Tables and the docs/performance.md page from the benchmark's samples."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.inprocess import CALLS, REPEATS
from bench.servers import Result, ServerConfig

BARE = "bare /plaintext"

# Goals from the performance reference measurements (share of the same run's plaintext).
PAGE_GOAL = 20.0  # a ~5 KB template page without a database query
DB_PAGE_GOALS = {"postgres": 10.0, "sqlite": 15.0}  # one indexed lookup plus a page
FLOOR = 4.0  # regression guard for any page that reads the database


@dataclass(frozen=True)
class Cell:
    config: ServerConfig
    db: str  # "-" for the bare app
    endpoint: str


@dataclass
class Row:
    config: ServerConfig
    db: str
    endpoint: str
    result: Result
    runs: int
    bytes: int
    share: float  # percent of the same configuration's bare plaintext


def median_result(results: list[Result]) -> Result:
    """The run with the median requests/s, keeping its own p50/p99 so the figures belong together."""
    ordered = sorted(results, key=lambda r: r.rps)
    return ordered[(len(ordered) - 1) // 2]


def rows(
    samples: dict[Cell, list[Result]],
    sizes: dict[tuple[str, str], int],
    configs: list[ServerConfig],
    engines: list[str],
) -> list[Row]:
    out: list[Row] = []
    for config in configs:
        bare_cell = Cell(config, "-", BARE)
        if bare_cell not in samples:
            continue
        bare = median_result(samples[bare_cell])
        out.append(Row(config, "-", BARE, bare, len(samples[bare_cell]), sizes.get(("-", BARE), 0), 100.0))
        for engine in engines:
            for cell, results in samples.items():
                if cell.config == config and cell.db == engine:
                    r = median_result(results)
                    share = 100.0 * r.rps / bare.rps if bare.rps else 0.0
                    out.append(
                        Row(
                            config,
                            engine,
                            cell.endpoint,
                            r,
                            len(results),
                            sizes.get((engine, cell.endpoint), 0),
                            share,
                        )
                    )
    return out


def markdown_table(table_rows: list[Row]) -> str:
    lines = [
        "| server | db | endpoint | bytes | req/s | p50 ms | p99 ms | % of bare plaintext | errors |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in table_rows:
        errors = r.result.non2xx + r.result.socket_errors
        lines.append(
            f"| {r.config.label} | {r.db} | {r.endpoint} | {r.bytes:,} | {r.result.rps:,.0f} | "
            f"{r.result.p50_ms:.1f} | {r.result.p99_ms:.1f} | {r.share:.1f} | {errors} |"
        )
    return "\n".join(lines)


def cost_table(costs: dict[str, dict[str, float]]) -> str:
    """Microseconds per request in-process, one column per engine."""
    if not costs:
        return "(not measured: --no-inprocess)"
    engines = list(costs)
    lines = [
        "| endpoint | " + " | ".join(f"{e} µs" for e in engines) + " |",
        "|---|" + "---:|" * len(engines),
    ]
    for endpoint in next(iter(costs.values())):
        lines.append(f"| {endpoint} | " + " | ".join(f"{costs[e][endpoint]:,.0f}" for e in engines) + " |")
    return "\n".join(lines)


def goal_lines(table_rows: list[Row]) -> list[str]:
    lines = []
    for r in table_rows:
        if r.endpoint.startswith("/ (home)"):
            goal, what = PAGE_GOAL, "page without a database query"
        elif r.endpoint.startswith("/account"):
            goal, what = DB_PAGE_GOALS.get(r.db, FLOOR), "page with a session and a database read"
        else:
            continue
        verdict = (
            "meets"
            if r.share >= goal
            else ("below the goal, above the floor" if r.share >= FLOOR else "BELOW THE FLOOR")
        )
        lines.append(
            f"- {r.config.label}, {r.db}, `{r.endpoint}`: {r.share:.1f}% of plaintext, "
            f"goal ≥ {goal:g}% for a {what}: {verdict}."
        )
    return lines


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _first_line(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except OSError:
        return "unknown"
    return ((done.stdout or done.stderr).strip().splitlines() or ["unknown"])[0]


def machine_facts(engines: list[str]) -> list[str]:
    cpu = "unknown"
    mem_gib = "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        kib = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        mem_gib = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    debian = Path("/etc/debian_version").read_text().strip() if Path("/etc/debian_version").exists() else "-"
    packages = [
        "litestar",
        "piccolo",
        "jinja2",
        "jinja2-fragments",
        "msgspec",
        "uvicorn",
        "uvloop",
        "httptools",
        "granian",
        "aiosqlite",
        "asyncpg",
        "argon2-cffi",
    ]
    facts = [
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {mem_gib}",
        f"- Linux {platform.release()}, Debian {debian}",
        f"- Python {platform.python_version()} ({sys.implementation.name}); SQLite {sqlite3.sqlite_version}",
        "- " + " · ".join(f"{p} {_version(p)}" for p in packages),
        f"- {_first_line(['wrk', '-v'])}",
    ]
    if "postgres" in engines:
        from bench.servers import postgres_version

        facts.append(f"- PostgreSQL {postgres_version()} on 127.0.0.1 (Debian package defaults)")
    return facts


PAGE_TEMPLATE = """\
# Performance

Written by `python -m bench.run --write` (see `bench/`); rerun it to refresh this page. It serves a bare
Litestar app (one plaintext handler, `bench/bare.py`) and the portal (`portal.app:create_app`)
with the same server and settings, and loads each endpoint with `wrk` from a separate process.
The portal runs on a freshly migrated database with one verified customer, without Redis
(sessions in files under `PORTAL_VAR_DIR`), with production password hashing.

- `bare /plaintext`: the framework floor, 5 bytes of text.
- `/ (home)` and `/login (GET)`: anonymous pages (session middleware, CSRF cookie, a Jinja
  page, no query).
- `/account (logged in)`: the session file, one customer query and the account page.

## This run

{warning}`{cmd}` ({minutes:.1f} minutes). Each cell: {warmup} s warm-up, then
`wrk -t{threads} -c{connections} -d{duration}s --timeout 10s`. With several rounds the
configurations are rotated and the round with the median requests/s is shown. *% of bare
plaintext* compares with the bare app under the same server and worker count in the same run.
*errors* counts non-2xx answers and socket errors (both must be 0).

{facts}

{table}

## Against the goals

Goals from the reference measurements on this machine size: a ~5 KB page without a query
≥ 20% of plaintext; a page with one indexed lookup ≥ 15% (SQLite with a persistent connection)
or ≥ 10% (PostgreSQL); never below 4%.

{goals}

## Cost per request inside the app

Raw ASGI calls one after another in one process (no server, no network, no wrk): the median
of {repeats}×{calls} calls, in microseconds. Where the wrk ratios say *how much*, this says
*where*: framework and middleware (`/ (home)` less `bare /plaintext`), the session file and the
customer query (`/account`), the template.

{costs}

## Reading the figures

- wrk shares the cores with the server: every figure means *server plus load generator on
  this machine*. With 2 cores and 2 workers, the workers and wrk compete for the CPU.
- Runs on a shared machine are noisy (the reference saw 13.9k–16.6k req/s for identical
  plaintext runs): compare ratios within one run, not absolute numbers across runs, and use
  `--rounds 3` or more for figures you want to quote.
- p99 at 64 connections is mostly queueing: the CPU is saturated by design. Latency at low
  concurrency is lower (try `--connections 8`).
"""


def document(
    table: str,
    costs: str,
    table_rows: list[Row],
    args: argparse.Namespace,
    engines: list[str],
    *,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    seconds: float,
) -> str:
    cmd = (
        f"python -m bench.run --write --duration {args.duration} --warmup {args.warmup} --rounds {args.rounds} "
        f"--connections {args.connections} --workers {args.workers} --servers {args.servers} --db {args.db}"
    )
    loads = " / ".join(f"{x:.2f}" for x in load_before), " / ".join(f"{x:.2f}" for x in load_after)
    busy = max(load_before[0], load_after[0]) > 0.75 * (os.cpu_count() or 1)
    warning = (
        f"> **The machine was busy** (load average {max(load_before[0], load_after[0]):.1f} on "
        f"{os.cpu_count()} cores, from other processes than this benchmark): these figures are low "
        "and the ratios unreliable. Rerun on a quiet machine before quoting them.\n\n"
        if busy
        else ""
    )
    facts = [*machine_facts(engines), f"- load average (1/5/15 min) before: {loads[0]}, after: {loads[1]}"]
    return PAGE_TEMPLATE.format(
        cmd=cmd,
        warning=warning,
        minutes=seconds / 60,
        warmup=args.warmup,
        threads=args.threads,
        connections=args.connections,
        duration=args.duration,
        facts="\n".join(facts),
        table=table,
        goals="\n".join(goal_lines(table_rows)) or "- (no portal pages measured)",
        costs=costs,
        repeats=REPEATS,
        calls=CALLS,
    )
