"""``python -m bench.run``: the server comparison. Serve a bare Litestar app and the portal the
same way (uvicorn and granian, 1–2 workers) on a fresh database, load them with wrk, and print
(with ``--write``: write to docs/performance.md) requests/s, p50, p99 and the share of the bare
plaintext figure reached in the same run. The main benchmark is ``python -m bench``.

wrk runs on the same cores as the server, so each figure means "server plus load generator on
this machine". Compare ratios within one run rather than absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import report
from bench.report import Cell
from bench.servers import (
    BARE_FACTORY,
    PORTAL_FACTORY,
    REPORT_LUA,
    ROOT,
    Result,
    ServerConfig,
    check_page,
    database,
    inprocess_costs,
    log_in,
    portal_env,
    run_wrk,
    serving,
    which_wrk,
)
from bench.setup_db import EMAIL, PASSWORD

# (label, path, needs the logged-in session)
PORTAL_ENDPOINTS = [
    ("/ (home)", "/", False),
    ("/login (GET)", "/login", False),
    ("/account (logged in)", "/account", True),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first (default 2)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    p.add_argument("--rounds", type=int, default=1, help="rounds, configurations rotated; median reported")
    p.add_argument("--workers", default="1,2", help="worker counts to try, comma-separated (default 1,2)")
    p.add_argument("--servers", default="uvicorn,granian", help="servers to try (default uvicorn,granian)")
    p.add_argument(
        "--db",
        default="sqlite",
        choices=["sqlite", "postgres", "both"],
        help="database engine of the portal (default sqlite)",
    )
    p.add_argument(
        "--output",
        default="docs/performance.md",
        help="markdown file to write, relative to the project (default docs/performance.md)",
    )
    p.add_argument("--write", action="store_true", help="write the tables into --output (default: print only)")
    p.add_argument("--no-inprocess", action="store_true", help="skip the in-process cost per request")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    which_wrk()
    configs = [
        ServerConfig(s.strip(), int(w))
        for s in args.servers.split(",")
        if s.strip()
        for w in args.workers.split(",")
        if w.strip()
    ]
    engines = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    load_before = os.getloadavg()
    started = time.monotonic()
    samples: dict[Cell, list[Result]] = {}
    sizes: dict[tuple[str, str], int] = {}
    costs: dict[str, dict[str, float]] = {}

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        lua = work / "report.lua"
        lua.write_text(REPORT_LUA)
        # One database per engine for the whole run (dropped at the end); each server start reuses it.
        dbs: dict[str, tuple[str, Path]] = {}
        for engine in engines:
            folder = work / engine
            folder.mkdir()
            dbs[engine] = (stack.enter_context(database(engine, folder)), folder)
        if not args.no_inprocess:
            for engine, (url, folder) in dbs.items():
                print(f"in-process cost per request: {engine}", flush=True)
                costs[engine] = inprocess_costs(url, folder, EMAIL, PASSWORD)
        for round_no in range(args.rounds):
            shift = round_no % len(configs)
            for config in configs[shift:] + configs[:shift]:
                print(f"round {round_no + 1}/{args.rounds}: {config.label}", flush=True)
                _measure_config(config, args, lua, work, dbs, samples, sizes)

    rows = report.rows(samples, sizes, configs, engines)
    table = report.markdown_table(rows)
    cost_table = report.cost_table(costs)
    print()
    print(table)
    if costs:
        print()
        print(cost_table)
    if args.write:
        out = ROOT / args.output
        out.parent.mkdir(parents=True, exist_ok=True)
        write_generated(
            out,
            report.document(
                table,
                cost_table,
                rows,
                args,
                engines,
                load_before=load_before,
                load_after=os.getloadavg(),
                seconds=time.monotonic() - started,
            ),
        )
        print(f"\nwritten to {args.output}")


START, END = "<!-- bench:generated:start -->", "<!-- bench:generated:end -->"


def write_generated(out: Path, generated: str) -> None:
    """Replace the generated part of ``out`` (between the markers), keeping the hand-written
    text around it (measured figures of the other scripts, the server decision); a file
    without markers is written whole."""
    text = out.read_text() if out.exists() else ""
    if START in text and END in text:
        head, _sep, rest = text.partition(START)
        _old, _sep, tail = rest.partition(END)
        # One heading level down: the generated page becomes a section of the hand-written one.
        body = "\n".join("#" + line if line.startswith("#") else line for line in generated.strip().splitlines())
        out.write_text(f"{head}{START}\n{body}\n{END}{tail}")
    else:
        out.write_text(generated)


def _measure_config(
    config: ServerConfig,
    args: argparse.Namespace,
    lua: Path,
    work: Path,
    dbs: dict[str, tuple[str, Path]],
    samples: dict[Cell, list[Result]],
    sizes: dict[tuple[str, str], int],
) -> None:
    def load(url: str, headers: dict[str, str] | None = None) -> Result:
        if args.warmup:
            run_wrk(
                url,
                seconds=args.warmup,
                connections=args.connections,
                threads=args.threads,
                lua=lua,
                headers=headers,
            )
        return run_wrk(
            url,
            seconds=args.duration,
            connections=args.connections,
            threads=args.threads,
            lua=lua,
            headers=headers,
        )

    bare_env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    with serving(config, BARE_FACTORY, bare_env, work / "bare.log", "/plaintext") as base:
        sizes[("-", report.BARE)] = len(check_page(base, "/plaintext").content)
        samples.setdefault(Cell(config, "-", report.BARE), []).append(load(base + "/plaintext"))

    for engine, (url, folder) in dbs.items():
        env = portal_env(url, folder, "http://127.0.0.1")
        with serving(config, PORTAL_FACTORY, env, folder / "portal.log", "/healthz") as base:
            cookie = log_in(base, EMAIL, PASSWORD)
            for label, path, logged_in in PORTAL_ENDPOINTS:
                headers = {"Cookie": cookie} if logged_in else None
                first = check_page(base, path, cookie if logged_in else None)
                if first.status_code != 200:
                    raise RuntimeError(
                        f"{path} does not answer 200 before the load; see {folder / 'portal.log'}"
                    )
                sizes[(engine, label)] = len(first.content)
                result = load(base + path, headers)
                # A session that expired mid-run would have measured redirects to /login.
                if logged_in and check_page(base, path, cookie).status_code != 200:
                    raise RuntimeError(f"{path} stopped answering 200 during the load")
                samples.setdefault(Cell(config, engine, label), []).append(result)


if __name__ == "__main__":
    main()
