"""``python -m bench.profile``: where the time of one logged-in request goes, without a server.

Builds a throw-away database (``--db sqlite|postgres``) with a few orders for the benchmark
customer, logs in, then calls the ASGI app directly ``--calls`` times for ``--path`` and
prints microseconds per request (wall and CPU) and the number of SQL queries per request.
``--staff N`` logs in as the benchmark agent over N generated tickets instead (for
``/staff/queue`` and ``/staff/tickets/T-1``, which has 50 messages). With ``--profile`` it
also prints a pyinstrument report (``--profile cprofile``, or without pyinstrument: cProfile,
sorted by ``PSORT=tottime|cumulative``).

This is the tool behind the hot-path work in docs/performance.md: it shows the fixed cost of
a logged-in page (session, user lookup, middleware, rendering) apart from load-generator noise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.servers import ROOT, database, portal_env
from bench.setup_db import EMAIL, PASSWORD
from bench.tickets import AGENT_EMAIL, AGENT_PASSWORD


async def _run(args: argparse.Namespace) -> None:
    import httpx

    from bench.inprocess import call
    from portal import db
    from portal.app import create_app

    app = create_app()
    async with app.lifespan():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
            login = "/staff/login" if args.staff else "/login"
            await c.get(login)
            email, password = (AGENT_EMAIL, AGENT_PASSWORD) if args.staff else (EMAIL, PASSWORD)
            form = {"_csrf_token": c.cookies["portal_csrf"], "email": email, "password": password}
            if (await c.post(login, data=form)).status_code != 303:
                raise RuntimeError("log-in failed")
            cookie = f"portal_session={c.cookies['portal_session']}; portal_csrf={c.cookies['portal_csrf']}"
        for _ in range(50):
            status = await call(app, args.path, cookie)
            if status != 200:
                raise RuntimeError(f"{args.path} answered {status}")
        engine = db.current_engine()
        before = getattr(engine, "query_count", 0)
        profiler = None
        if args.profile:
            try:
                if args.profile != "pyinstrument":
                    raise ImportError
                from pyinstrument import Profiler  # optional: pip install pyinstrument

                profiler = Profiler(async_mode="disabled", interval=0.001)
            except ImportError:
                import cProfile

                profiler = cProfile.Profile()
            profiler.start() if hasattr(profiler, "start") else profiler.enable()
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.calls):
            await call(app, args.path, cookie)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profiler is not None:
            if hasattr(profiler, "stop"):
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=False))
            else:
                import pstats

                profiler.disable()
                stats = pstats.Stats(profiler).sort_stats(os.environ.get("PSORT", "tottime"))  # or "cumulative"
                stats.print_stats(int(os.environ.get("PN", "45")))
        queries = (getattr(engine, "query_count", 0) - before) / args.calls
        print(f"{args.path}: {elapsed / args.calls * 1e6:.0f} µs per request ({cpu / args.calls * 1e6:.0f} µs of CPU), "
              f"{queries:.1f} queries per request")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--path", default="/orders/BN-000050")
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--orders", type=int, default=1000)
    p.add_argument("--profile", nargs="?", const="pyinstrument", choices=["pyinstrument", "cprofile"],
                   help="print a profile of the loop (pyinstrument by default)")
    p.add_argument("--redis", action="store_true", help="sessions in Redis (PORTAL_REDIS_URL)")
    p.add_argument("--staff", type=int, default=0, metavar="TICKETS",
                   help="log in as the benchmark agent over this many tickets (bench.tickets data)")
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        asyncio.run(_run(args))
        return
    with tempfile.TemporaryDirectory(prefix="portal-profile-") as tmp:
        folder = Path(tmp)
        with database(args.db, folder) as url:
            if args.staff:
                from bench import tickets

                tickets.generate(args.db, url, folder, args.staff, min(args.staff, 1000), 20)
            else:
                from bench import orders

                orders.generate(args.db, url, args.orders, 50)
            env = portal_env(url, folder, "http://127.0.0.1")
            if args.redis:
                env["PORTAL_REDIS_URL"] = os.environ.get("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/15")
            cmd = [sys.executable, "-m", "bench.profile", "--inner", "--path", args.path, "--calls",
                   str(args.calls), "--staff", str(args.staff)] + (["--profile", args.profile] if args.profile else [])
            subprocess.run(cmd, env=env, cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
