"""``python -m bench.hotpath_ab``: CPU per request of the logged-in hot path, before and after
the changes described in docs/performance.md, measured in one process so that a busy machine
affects both sides alike.

"Before" patches the previous implementations back in: Litestar's thread-reading
``FileStore``, the Piccolo query-builder look-up of the session's customer, the three-hop
aiosqlite query path, asyncpg's reset query on every pool release, Jinja's newstyle gettext
and uncached Babel formatting. The two states
alternate five times (60 calls each) and the median CPU time (``time.process_time``, which
ignores waiting for the CPU) is printed per page.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.servers import ROOT, database, portal_env


async def _old_customer_for_session(cid, version):  # noqa: ANN001 - the previous implementation
    from portal.accounts import service as accounts
    from portal.accounts.tables import Customer

    if not isinstance(cid, int) or not isinstance(version, int):
        return None
    row = await Customer.select(*accounts.CUSTOMER_SESSION_COLUMNS).where(
        (Customer.id == cid) & Customer.deleted_at.is_null() & Customer.email_verified_at.is_not_null()
    ).first()
    if row is None or row["session_version"] != version:
        return None
    return row


async def _old_run_in_new_connection(self, query, args=None, query_type="generic", table=None):  # noqa: ANN001
    self.query_count += 1
    conn = await self._shared_connection()
    async with conn.execute(query, args or []) as cursor:
        return await cursor.fetchall()


def _old_filters() -> tuple:
    from babel import dates as babel_dates
    from babel import numbers as babel_numbers

    from portal import i18n

    def fmt_datetime(value, format="medium"):  # noqa: A002, ANN001
        if value is None:
            return ""
        return babel_dates.format_datetime(value, format, tzinfo=ZoneInfo(i18n._timezone.get()),
                                           locale=i18n._babel_locale())

    def fmt_money(amount, currency="TRY"):  # noqa: ANN001
        return babel_numbers.format_currency(Decimal(str(amount)), currency, locale=i18n._babel_locale())

    def fmt_date(value, format="medium"):  # noqa: A002, ANN001
        if value is None:
            return ""
        if isinstance(value, i18n.datetime):
            value = i18n.to_local(value).date()
        return babel_dates.format_date(value, format, locale=i18n._babel_locale())

    return fmt_datetime, fmt_money, fmt_date


async def _measure(path: str, email: str, password: str, login: str) -> None:
    import httpx
    from jinja2.ext import _gettext_alias, _make_new_gettext, _make_new_ngettext
    from litestar.stores.file import FileStore

    from bench.inprocess import call
    from portal import db, i18n
    from portal.accounts import service as accounts
    from portal.app import create_app

    app = create_app()
    async with app.lifespan():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
            await c.get(login)
            await c.post(login, data={"_csrf_token": c.cookies["portal_csrf"], "email": email, "password": password})
            cookie = f"portal_session={c.cookies['portal_session']}; portal_csrf={c.cookies['portal_csrf']}"
        env = app.template_engine.engine  # type: ignore[union-attr]
        svc = app.state["services"]
        engine = db.current_engine()
        kind = type(engine)
        pool = getattr(engine, "pool", None)
        after = {"store": svc.session_store, "user": accounts.customer_for_session,
                 "run": kind._run_in_new_connection, "reset": getattr(pool, "_reset", None),
                 "gettext": {k: env.globals[k] for k in ("_", "gettext", "ngettext")},
                 "filters": (env.filters["datetime"], env.filters["money"], env.filters["date"])}  # fmt: skip
        before = {"store": FileStore(path=svc.session_store.path), "user": _old_customer_for_session,
                  "run": _old_run_in_new_connection if db.is_sqlite() else kind._run_in_new_connection,
                  "reset": None,  # asyncpg's default: RESET ALL … on every release
                  "gettext": {"_": _gettext_alias, "gettext": _make_new_gettext(i18n.gettext),
                              "ngettext": _make_new_ngettext(i18n.ngettext)},
                  "filters": _old_filters()}  # fmt: skip

        def use(state: dict) -> None:
            svc.session_store = state["store"]
            accounts.customer_for_session = state["user"]
            kind._run_in_new_connection = state["run"]
            if pool is not None:
                pool._reset = state["reset"]
            env.globals.update(state["gettext"])
            env.filters["datetime"], env.filters["money"], env.filters["date"] = state["filters"]

        times: dict[str, list[float]] = {"before": [], "after": []}
        for state in (before, after):
            use(state)
            for _ in range(20):
                if await call(app, path, cookie) != 200:
                    raise RuntimeError(f"{path} did not answer 200")
        for _ in range(5):
            for name, state in (("before", before), ("after", after)):
                use(state)
                started = time.process_time()
                for _ in range(60):
                    await call(app, path, cookie)
                times[name].append((time.process_time() - started) / 60 * 1e6)
        b, a = statistics.median(times["before"]), statistics.median(times["after"])
        print(f"{path}: before {b:,.0f} µs CPU, after {a:,.0f} µs CPU per request ({b / a:.2f}×)", flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.hotpath_ab", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--db", default="both", choices=["sqlite", "postgres", "both"])
    p.add_argument("--inner", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        asyncio.run(_measure(*args.inner))
        return
    from bench import orders, tickets
    from bench.setup_db import EMAIL, PASSWORD

    pages = [("/orders/BN-001000", EMAIL, PASSWORD, "/login"), ("/account", EMAIL, PASSWORD, "/login"),
             ("/staff/queue", tickets.AGENT_EMAIL, tickets.AGENT_PASSWORD, "/staff/login"),
             ("/staff/tickets/T-1", tickets.AGENT_EMAIL, tickets.AGENT_PASSWORD, "/staff/login")]  # fmt: skip
    for engine in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        with tempfile.TemporaryDirectory(prefix="portal-ab-") as tmp:
            folder = Path(tmp)
            with database(engine, folder) as url:
                orders.generate(engine, url, 20_000, 1_000)
                tickets.generate(engine, url, folder, 5_000, 1_000, 20)
                env = portal_env(url, folder, "http://127.0.0.1")
                print(f"--- {engine}", flush=True)
                for page in pages:
                    subprocess.run([sys.executable, "-m", "bench.hotpath_ab", "--inner", *page], env=env, cwd=ROOT,
                                   check=True)  # fmt: skip


if __name__ == "__main__":
    main()
