"""``python -m bench.login_burst``: does a burst of log-ins slow the order page down?

A log-in verifies an argon2id hash, about 140 ms of CPU. The portal runs hashing in at most
two threads per process, at the lowest scheduling priority (``portal.security``). This script
serves the portal (``--server``, two workers, production hashing costs) and loads
``GET /orders/{number}`` (logged in) with wrk at ``--connections`` connections, twice per
round: alone, and with ``--logins`` parallel log-ins fired one second into the run (each a
``GET /login`` and a ``POST /login`` from its own client). It prints requests/s and p99 of
both, their ratio, and how long the log-ins took.

``--variant plain`` serves the same app with hashing threads at normal priority (the earlier
behaviour); the default serves both at once, each with its own wrk and burst at the same
time, so that other work on the machine weighs on both alike. wrk, the servers and the
log-ins share the machine's cores: the figures depend on the load (``uptime`` is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.orders import generate, order_page_lua
from bench.servers import (
    PORTAL_FACTORY,
    Result,
    ServerConfig,
    database,
    log_in,
    portal_env,
    run_wrk,
    serving,
)
from bench.setup_db import EMAIL, PASSWORD

ORDERS, CUSTOMERS = 2_000, 50
FACTORIES = {"nice": PORTAL_FACTORY, "plain": "bench.login_burst:plain_priority_app",
             "nice19": "bench.login_burst:lowest_priority_app"}  # fmt: skip


def _with_hashing_threads(initializer: Any) -> Any:
    from portal.app import create_app

    app = create_app()
    app.state["services"].passwords._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="portal-hash",
                                                                   initializer=initializer)  # fmt: skip
    return app


def plain_priority_app() -> Any:
    """The portal with hashing threads at normal priority (as before ``HASHING_NICENESS``)."""
    return _with_hashing_threads(None)


def lowest_priority_app() -> Any:
    """The portal with hashing threads at nice 19 instead of ``HASHING_NICENESS``."""
    from portal.security import lower_thread_priority

    return _with_hashing_threads(functools.partial(lower_thread_priority, 19))


async def _burst(base: str, n: int, delay: float) -> list[float]:
    """``n`` log-ins at once after ``delay`` seconds; the seconds each took."""
    await asyncio.sleep(delay)

    async def one() -> float:
        async with httpx.AsyncClient(base_url=base, timeout=300) as client:
            started = time.perf_counter()
            await client.get("/login")
            form = {"_csrf_token": client.cookies["portal_csrf"], "email": EMAIL, "password": PASSWORD}
            response = await client.post("/login", data=form)
            if response.status_code != 303:
                raise RuntimeError(f"log-in answered {response.status_code}")
            return time.perf_counter() - started

    return list(await asyncio.gather(*(one() for _ in range(n))))


def _wrk(base: str, lua: Path, args: argparse.Namespace, cookie: str) -> subprocess.Popen:
    cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s", "-s", str(lua),
           "-H", f"Cookie: {cookie}", base + "/"]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen) -> Result:
    import json
    import re

    out, err = proc.communicate(timeout=600)
    match = re.search(r"^BENCH (\{.*\})$", out, re.MULTILINE)
    if proc.returncode or not match:
        raise RuntimeError(f"wrk failed: {out}\n{err}")
    d = json.loads(match.group(1))
    return Result(d["requests"], d["duration_us"] / 1e6, d["p50_us"] / 1000, d["p99_us"] / 1000, d["non2xx"],
                  d["socket_errors"])  # fmt: skip


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def measure(args: argparse.Namespace, engine: str, url: str, folder: Path) -> None:
    """Both variants served at once, each loaded by its own wrk and hit by its own burst at the
    same moment: whatever else runs on the machine weighs on both alike (each server is its
    own process session, so the kernel shares the CPU between them fairly)."""
    lua = folder / "order.lua"
    lua.write_text(order_page_lua(ORDERS, CUSTOMERS))
    variants = {"both": ["plain", "nice"], "all": ["plain", "nice", "nice19"]}.get(args.variant, [args.variant])
    rows: dict[str, list[tuple[Result, Result, list[float]]]] = {v: [] for v in variants}
    with contextlib.ExitStack() as stack:
        bases = {v: stack.enter_context(serving(ServerConfig(args.server, 2), FACTORIES[v],
                                                portal_env(url, folder, "http://127.0.0.1"),
                                                folder / f"{v}.log", "/healthz"))
                 for v in variants}  # fmt: skip
        cookies = {v: log_in(base, EMAIL, PASSWORD) for v, base in bases.items()}
        for v in variants:
            run_wrk(bases[v] + "/", seconds=2, connections=args.connections, threads=1, lua=lua,
                    headers={"Cookie": cookies[v]})  # fmt: skip
        for round_ in range(args.rounds):
            alone = {v: _wrk(bases[v], lua, args, cookies[v]) for v in variants}
            alone_results = {v: _result(p) for v, p in alone.items()}
            loaded = {v: _wrk(bases[v], lua, args, cookies[v]) for v in variants}

            async def bursts() -> list[list[float]]:
                return list(await asyncio.gather(*(_burst(bases[v], args.logins, 1.0) for v in variants)))

            times = dict(zip(variants, asyncio.run(bursts()), strict=True))
            for v in variants:
                a, b = alone_results[v], _result(loaded[v])
                rows[v].append((a, b, times[v]))
                print(f"{engine} {v:5s} round {round_ + 1}: alone {a.rps:,.0f} req/s p99 {a.p99_ms:.1f} ms; "
                      f"with {args.logins} log-ins {b.rps:,.0f} req/s p99 {b.p99_ms:.1f} ms "
                      f"(×{b.p99_ms / a.p99_ms:.2f}); log-ins {min(times[v]):.1f}–{max(times[v]):.1f} s; "
                      f"load {_load()}", flush=True)  # fmt: skip
    for variant, results in rows.items():
        ratio = statistics.median(b.p99_ms / a.p99_ms for a, b, _t in results)
        slowest = statistics.median(max(t) for _a, _b, t in results)
        print(
            f"{engine} {variant}: median p99 ratio (with log-ins ÷ alone) ×{ratio:.2f}, "
            f"slowest log-in {slowest:.1f} s (median of {len(results)} rounds)"
        )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.login_burst", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--db", default="sqlite", choices=["sqlite", "postgres", "both"])
    p.add_argument("--server", default="granian", choices=["granian", "uvicorn"])
    p.add_argument(
        "--variant",
        default="both",
        choices=["nice", "plain", "nice19", "both", "all"],
        help="nice: the portal as it is; both: plain and nice at once; all: the three at once",
    )
    p.add_argument("--logins", type=int, default=50)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args(argv)
    print(f"load average before: {_load()}")
    for engine in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        with tempfile.TemporaryDirectory(prefix="portal-burst-") as tmp:
            folder = Path(tmp)
            with database(engine, folder) as url:
                generate(engine, url, ORDERS, CUSTOMERS)
                measure(args, engine, url, folder)


if __name__ == "__main__":
    main()
