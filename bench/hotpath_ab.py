"""``python -m bench.hotpath_ab``: CPU per request of the logged-in hot path, before and after
the changes described in docs/performance.md, measured in one process so that a busy machine
affects both sides alike.

Two sets of changes can be compared (``--changes``):

- ``rendering`` (the default): the pages compiled once per language with ``_("…")`` and
  ``asset("…")`` worked out at compile time, row look-ups (``order.number``) without Jinja's
  attribute-first probing, and the order query without Piccolo's query path. "Before" clears
  ``constant_calls`` (with a template cache of its own), restores ``Environment.getattr`` and
  runs the order query through ``Order.raw``. Pages: ``/orders/{number}`` logged in,
  ``POST /track``, ``/`` anonymous and logged in, ``/kb/search``.
- ``earlier``: the first round (docs/performance.md): Litestar's thread-reading
  ``FileStore``, the Piccolo query-builder look-up of the session's customer, the three-hop
  aiosqlite query path, asyncpg's reset query on every pool release, Jinja's newstyle gettext
  and uncached Babel formatting. Pages: the order page, ``/account``, ``/staff/queue`` and a
  staff ticket page. Both states render without folded calls and with the second round's row
  look-ups, so the figures are lower than those of the first round's notes.

The two states alternate five times (60 calls each) and the median CPU time
(``time.process_time``, which ignores waiting for the CPU) is printed per page.
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
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bench.servers import ROOT, database, portal_env


async def _old_customer_for_session(cid, version):  # noqa: ANN001 - the previous implementation
    from portal.accounts import service as accounts
    from portal.accounts.tables import Customer

    if not isinstance(cid, int) or not isinstance(version, int):
        return None
    row = (
        await Customer.select(*accounts.CUSTOMER_SESSION_COLUMNS)
        .where((Customer.id == cid) & Customer.deleted_at.is_null() & Customer.email_verified_at.is_not_null())
        .first()
    )
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
        return babel_dates.format_datetime(
            value, format, tzinfo=ZoneInfo(i18n._timezone.get()), locale=i18n._babel_locale()
        )

    def fmt_money(amount, currency="TRY"):  # noqa: ANN001
        return babel_numbers.format_currency(Decimal(str(amount)), currency, locale=i18n._babel_locale())

    def fmt_date(value, format="medium"):  # noqa: A002, ANN001
        if value is None:
            return ""
        if isinstance(value, i18n.datetime):
            value = i18n.to_local(value).date()
        return babel_dates.format_date(value, format, locale=i18n._babel_locale())

    return fmt_datetime, fmt_money, fmt_date


async def call(app, path: str, cookie: str | None = None, body: bytes = b"") -> int:  # noqa: ANN001
    """One raw ASGI request (a GET, or a form POST when ``body`` is given); its status."""
    path, _sep, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"user-agent", b"bench")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if body:
        headers += [(b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", str(len(body)).encode())]  # fmt: skip
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST" if body else "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip
    status: list[int] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def _log_in(app, login: str, email: str, password: str) -> tuple[str, str]:  # noqa: ANN001
    """(the Cookie header of a logged-in browser, the CSRF cookie of an anonymous one)."""
    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c:
        await c.get(login)
        anonymous = c.cookies["portal_csrf"]
        await c.post(login, data={"_csrf_token": anonymous, "email": email, "password": password})
        return f"portal_session={c.cookies['portal_session']}; portal_csrf={c.cookies['portal_csrf']}", anonymous


async def _alternate(
    app,
    pages: list[tuple[str, str, str | None, bytes]],
    before: dict,
    after: dict,  # noqa: ANN001
    use,
) -> None:  # noqa: ANN001
    for label, path, cookie, body in pages:
        for state in (before, after):
            use(state)
            for _ in range(20):
                if await call(app, path, cookie, body) != 200:
                    raise RuntimeError(f"{label} did not answer 200")
        times: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(5):
            for name, state in (("before", before), ("after", after)):
                use(state)
                started = time.process_time()
                for _ in range(60):
                    await call(app, path, cookie, body)
                times[name].append((time.process_time() - started) / 60 * 1e6)
        b, a = statistics.median(times["before"]), statistics.median(times["after"])
        print(f"{label}: before {b:,.0f} µs CPU, after {a:,.0f} µs CPU per request ({b / a:.2f}×)", flush=True)


async def _measure_rendering(email: str, password: str, kb_query: str) -> None:
    import types
    from urllib.parse import urlencode

    import jinja2
    from jinja2.utils import LRUCache

    from portal import db
    from portal.app import create_app
    from portal.orders import queries
    from portal.orders.tables import Order

    app = create_app()
    async with app.lifespan():
        cookie, anonymous = await _log_in(app, "/login", email, password)
        order = await Order.select(Order.number, Order.email).where(Order.number == "BN-000077").first()
        track = urlencode({"_csrf_token": anonymous, "number": order["number"], "email": order["email"]}).encode()
        env = app.template_engine.engine  # type: ignore[union-attr]

        async def raw_fetch_all(sql: str, *args: object) -> list[dict]:
            return await Order.raw(sql, *args)

        before = {"calls": {}, "cache": LRUCache(1000), "getattr": types.MethodType(jinja2.Environment.getattr, env),
                  "db": types.SimpleNamespace(fetch_all=raw_fetch_all, is_sqlite=db.is_sqlite)}  # fmt: skip
        after = {"calls": dict(env.constant_calls), "cache": env.cache, "getattr": None, "db": db}

        def use(state: dict) -> None:
            env.constant_calls, env.cache = state["calls"], state["cache"]
            if state["getattr"] is None:
                env.__dict__.pop("getattr", None)
            else:
                env.getattr = state["getattr"]
            queries.db = state["db"]

        pages = [("/orders/{number} (logged in)", "/orders/BN-001000", cookie, b""),
                 ("POST /track", "/track", f"portal_csrf={anonymous}", track),
                 ("/ (anonymous)", "/", f"portal_csrf={anonymous}", b""),
                 ("/ (logged in)", "/", cookie, b""),
                 ("/kb/search (anonymous)", f"/kb/search?q={kb_query}", f"portal_csrf={anonymous}", b"")]  # fmt: skip
        await _alternate(app, pages, before, after, use)


async def _measure(path: str, email: str, password: str, login: str) -> None:
    from jinja2.ext import _gettext_alias, _make_new_gettext, _make_new_ngettext
    from litestar.stores.file import FileStore

    from portal import db, i18n
    from portal.accounts import service as accounts
    from portal.app import create_app

    app = create_app()
    # The templates as they were then (no folded calls, see --changes rendering), in both states.
    app.template_engine.engine.constant_calls = {}  # type: ignore[union-attr]
    async with app.lifespan():
        cookie, _anonymous = await _log_in(app, login, email, password)
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

        await _alternate(app, [(path, path, cookie, b"")], before, after, use)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.hotpath_ab", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--db", default="both", choices=["sqlite", "postgres", "both"])
    p.add_argument("--changes", default="rendering", choices=["rendering", "earlier"])
    p.add_argument("--inner", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        if args.inner[0] == "rendering":
            asyncio.run(_measure_rendering(*args.inner[1:]))
        else:
            asyncio.run(_measure(*args.inner[1:]))
        return
    from bench import kb, orders, tickets
    from bench.setup_db import EMAIL, PASSWORD

    if args.changes == "rendering":
        pages = [("rendering", EMAIL, PASSWORD, quote(kb.QUERIES[0]))]
    else:
        pages = [
            ("earlier", "/orders/BN-001000", EMAIL, PASSWORD, "/login"),
            ("earlier", "/account", EMAIL, PASSWORD, "/login"),
            ("earlier", "/staff/queue", tickets.AGENT_EMAIL, tickets.AGENT_PASSWORD, "/staff/login"),
            ("earlier", "/staff/tickets/T-1", tickets.AGENT_EMAIL, tickets.AGENT_PASSWORD, "/staff/login"),
        ]
    for engine in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        with tempfile.TemporaryDirectory(prefix="portal-ab-") as tmp:
            folder = Path(tmp)
            with database(engine, folder) as url:
                orders.generate(engine, url, 20_000, 1_000)
                if args.changes == "earlier":
                    tickets.generate(engine, url, folder, 5_000, 1_000, 20)
                env = portal_env(url, folder, "http://127.0.0.1")
                print(f"--- {engine}", flush=True)
                for page in pages:
                    subprocess.run([sys.executable, "-m", "bench.hotpath_ab", "--inner", *page], env=env, cwd=ROOT,
                                   check=True)  # fmt: skip


if __name__ == "__main__":
    main()
