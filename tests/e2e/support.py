"""Helpers for the browser journeys: serve the real app in a subprocess, read its database,
open browser profiles, and check a page with axe.

Kept out of ``conftest.py`` so test modules can import them as a plain module.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from portal.settings import ROOT, sqlite_path
from tests.conftest import _pg_admin, _pg_url

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1200, "height": 800}
STARTUP_SECONDS = 30
BLOCKING_IMPACTS = ("serious", "critical")
T = TypeVar("T")

_MIGRATE = """
import asyncio, os, traceback
from portal import db
from portal.settings import Settings

async def main():
    engine = db.make_engine(Settings.from_env())
    await db.start(engine)
    try:
        await db.migrate(engine)
    finally:
        await db.stop(engine)

try:
    asyncio.run(main())
except BaseException:
    traceback.print_exc()
    os._exit(1)  # a failed migration can leave aiosqlite threads behind that would keep us alive
"""


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to the end from sync code. Playwright's sync API keeps an event loop on the
    main thread while a browser is open, so ``asyncio.run`` must happen on another thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def chromium_path() -> str | None:
    return os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServedApp:
    """One running server: where it listens, and how to read its database behind its back."""

    engine: str
    base_url: str
    database_url: str
    var_dir: Path
    log_path: Path

    def query(self, sql: str, *args: object) -> list[tuple]:
        """One read query on the served database (``?`` placeholders, rewritten for asyncpg)."""
        if self.engine == "sqlite":
            with sqlite3.connect(sqlite_path(self.database_url), timeout=30) as conn:
                return conn.execute(sql, args).fetchall()
        pg_sql = sql
        for n in range(1, len(args) + 1):
            pg_sql = pg_sql.replace("?", f"${n}", 1)

        async def run() -> list[tuple]:
            import asyncpg

            conn = await asyncpg.connect(self.database_url)
            try:
                return [tuple(r) for r in await conn.fetch(pg_sql, *args)]
            finally:
                await conn.close()

        return run_async(run())

    def mail_to(self, address: str) -> list[str]:
        """Plain-text bodies of the mails queued for ``address``, oldest first."""
        rows = self.query("SELECT body_text FROM outbox WHERE to_addr = ? ORDER BY id", address)
        return [r[0] for r in rows]

    def link_in(self, body: str, path_prefix: str) -> str:
        """The first absolute link in ``body`` to this server under ``path_prefix``."""
        match = re.search(re.escape(self.base_url + path_prefix) + r"[^\s\"'<>]*", body)
        assert match, f"no {self.base_url}{path_prefix} link in: {body[:500]}"
        return match.group(0)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _create_database(engine: str, var_dir: Path) -> tuple[str, str | None]:
    """A fresh, empty database URL for ``engine`` and, for PostgreSQL, the name to drop later."""
    if engine == "sqlite":
        return f"sqlite:///{var_dir / 'e2e.sqlite3'}", None
    name = f"portal_e2e_{uuid.uuid4().hex[:12]}"
    # The same collation as the suite's template database: Turkish ICU ordering.
    run_async(
        _pg_admin(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
            "LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR' LOCALE 'C.UTF-8'"
        )
    )
    return _pg_url(name), name


def _wait_healthy(proc: subprocess.Popen, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = log_path.read_text(errors="replace")
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"the server did not answer /healthz in {STARTUP_SECONDS}s:\n{log_path.read_text(errors='replace')}"
    )


@contextmanager
def serve(engine: str, var_dir: Path) -> Iterator[ServedApp]:
    """Migrate a new database and serve ``portal.app:create_app`` with uvicorn on a free port."""
    database_url, pg_name = _create_database(engine, var_dir)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_VAR_DIR": str(var_dir),
        "PORTAL_BASE_URL": base_url,
        "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_ENV_FILE": str(var_dir / "none.env"),  # a developer's .env must not leak in
        # A test run keeps both cores busy for minutes: at the production default (19) a
        # log-in's argon2 hash would wait behind it far longer than a browser step may take.
        "PORTAL_HASH_NICENESS": "10",
    }
    for name in ("PORTAL_SMTP_URL", "PORTAL_REDIS_URL", "PORTAL_DEFAULT_LOCALE"):
        env.pop(name, None)
    log_path = var_dir / "server.log"
    proc: subprocess.Popen | None = None
    try:
        done = subprocess.run(
            [sys.executable, "-c", _MIGRATE], env=env, cwd=ROOT, timeout=90, capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"migration failed:\n{done.stdout}\n{done.stderr}")
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "portal.app:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_healthy(proc, base_url, log_path)
        yield ServedApp(engine, base_url, database_url, var_dir, log_path)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if pg_name:
            run_async(_pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def new_context(browser: Any, served: ServedApp, *, locale: str = "tr-TR") -> Any:
    """A fresh browser profile (no cookies) whose Accept-Language is ``locale``."""
    return browser.new_context(
        base_url=served.base_url, viewport=VIEWPORT, locale=locale, timezone_id="Europe/Istanbul"
    )


def screenshot_dir(tmp_path: Path) -> Path:
    """``PORTAL_SCREENSHOT_DIR`` (relative to the project) when set, else the test's tmp folder,
    so that a test run never rewrites files of the source tree unasked."""
    configured = os.environ.get("PORTAL_SCREENSHOT_DIR")
    folder = (ROOT / configured) if configured else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def axe_violations(page: Any) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().run(page).response["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(
            " ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
            for n in v["nodes"][:5]
        )
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{targets}]")
    return "\n".join(lines)


def assert_accessible(page: Any, label: str) -> list[dict]:
    """No serious or critical axe violation; the lesser ones are named in the message and returned."""
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    others = [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]
    assert not blocking, (
        f"axe on {label}: serious/critical violations:\n{describe(blocking)}\n"
        f"lesser ones:\n{describe(others) or '-'}"
    )
    return others


@dataclass
class BrowserLog:
    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_responses: list[tuple[int, str]] = field(default_factory=list)

    def csp_messages(self, page: Any) -> list[str]:
        """Console lines about the CSP, plus the violation events of ``page``'s current document."""
        events = page.evaluate("window.__cspViolations || []")
        return [text for _type, text in self.console if "Content Security Policy" in text] + events


CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                              " at " + e.sourceFile + ":" + e.lineNumber);
});
"""
