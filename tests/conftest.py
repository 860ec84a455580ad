"""Test fixtures: a real database per test (SQLite and PostgreSQL, the same suite), the app
over real HTTP semantics (Litestar's AsyncTestClient), personas, and helpers for forms.

SQLite: the migrated database is built once per session and copied per test.
PostgreSQL: a migrated template database is built once per session (per xdist worker) and
each test gets ``CREATE DATABASE … TEMPLATE`` of it, dropped afterwards.

``PORTAL_TEST_DBS=sqlite`` (or ``postgres``) limits the run to one engine; the default is both.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from portal import db
from portal.app import create_app
from portal.settings import Settings

PG_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ENGINES = [e for e in os.environ.get("PORTAL_TEST_DBS", "sqlite,postgres").split(",") if e]
BASE_URL = "http://portal.test"
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def base_settings(database_url: str, var_dir: Path, **changes: Any) -> Settings:
    settings = Settings(
        database_url=database_url,
        secret_key=SECRET,
        base_url=BASE_URL,
        var_dir=var_dir,
        password_time_cost=1,
        password_memory_cost=64,
        hash_concurrency=4,
        default_locale="tr",
    )
    return settings.with_(**changes) if changes else settings


def _pg_url(dbname: str) -> str:
    return re.sub(r"/[^/?]*(\?|$)", f"/{dbname}\\1", PG_URL, count=1) if PG_URL.count("/") >= 3 else PG_URL


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str, var_dir: Path) -> None:
    settings = base_settings(url, var_dir)
    engine = db.make_engine(settings)
    await db.start(engine) if url.startswith("sqlite") else None
    await db.migrate(engine)
    await db.stop(engine)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    asyncio.run(_migrate(f"sqlite:///{path}", folder))
    return path


@pytest.fixture(scope="session")
def pg_template() -> str:
    _drop_stale_databases()
    name = f"portal_tpl_{_worker()}_{os.getpid()}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(_pg_admin(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                          "LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR' LOCALE 'C.UTF-8'"))
    asyncio.run(_migrate(_pg_url(name), Path("/tmp")))
    yield name
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}"'))


@pytest.fixture(params=ENGINES)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "portal.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    name = request.getfixturevalue("pg_database")
    asyncio.run(_pg_empty(_pg_url(name)))
    return _pg_url(name)


@pytest.fixture(scope="session")
def pg_database(pg_template) -> str:
    """One migrated database per test process, emptied before each test: CREATE/DROP
    DATABASE per test costs seconds (each DROP forces a checkpoint), TRUNCATE milliseconds."""
    name = f"portal_w_{_worker()}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield name
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_empty(url: str) -> None:
    # DELETE with foreign-key triggers off: on near-empty tables it is far cheaper than
    # TRUNCATE, which makes and syncs new files for ~40 tables. The change tokens the migrations
    # create stay, as in a copy of the SQLite template (each test has its own engine, so no
    # process cache outlives its test).
    conn = await asyncpg.connect(url)
    try:
        tables = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('migration', 'kb_search_state', 'config_version')")]
        sequences = [r["sequencename"] for r in await conn.fetch(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")]
        statements = ["SET session_replication_role = replica"]
        statements += [f'DELETE FROM "{t}"' for t in tables]
        statements += [f"SELECT setval('\"{q}\"', 1, false)" for q in sequences]
        statements.append("SET session_replication_role = DEFAULT")
        await conn.execute(";\n".join(statements))
    finally:
        await conn.close()


def _drop_stale_databases() -> None:
    """Databases left by test runs whose process is gone (the services outlive the runs)."""

    def alive(pid: str) -> bool:
        return Path(f"/proc/{pid}").exists()

    async def go() -> None:
        conn = await asyncpg.connect(PG_URL)
        try:
            rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'portal\\_tpl\\_%' "
                                    "OR datname LIKE 'portal\\_w\\_%'")
            for (name,) in rows:
                match = re.match(r"portal_(?:tpl|w)_[^_]+_(\d+)", name)
                if match and not alive(match.group(1)):
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(go())


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return base_settings(database_url, tmp_path / "var")


_APPS: dict[str, Any] = {}


@pytest.fixture
def app(settings):
    """The app for these settings. Building one registers ~300 routes (0.4 s), so apps are
    reused across tests with the same configuration and only their services (database,
    session store, throttle) are made fresh for each test."""
    key = repr(settings.with_(database_url="", var_dir=Path("/")))
    cached = _APPS.get(key)
    if cached is None:
        cached = _APPS[key] = create_app(settings)
        return cached
    from portal.app import build_services
    from portal.mail import service as mail_service

    cached.state["services"] = build_services(settings)
    cached.state["settings"] = settings
    mail_service.configure(base_url=settings.base_url, mail_from=settings.mail_from)
    return cached


class Client(httpx.AsyncClient):
    """The test client plus form helpers: CSRF token from the cookie, like a browser page has."""

    async def csrf(self) -> str:
        token = self.cookies.get("portal_csrf")
        if not token:
            await self.get("/healthz")
            await self.get("/login")
            token = self.cookies.get("portal_csrf")
        return token

    async def post_form(self, url: str, data: dict[str, Any] | None = None, *, htmx: bool = False,
                        headers: dict[str, str] | None = None, **kwargs: Any):
        body = {"_csrf_token": await self.csrf(), **(data or {})}
        hdrs = {"HX-Request": "true"} if htmx else {}
        hdrs.update(headers or {})
        return await self.post(url, data=body, headers=hdrs, **kwargs)


def make_client(app) -> Client:
    """Real HTTP semantics in the test's own event loop (the app's database pool lives there too)."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    return Client(transport=transport, base_url=BASE_URL, follow_redirects=False)


@pytest.fixture
async def running_app(app) -> AsyncIterator[Any]:
    # The lifespan runs in a task of its own: anyio's cancel scopes must exit in the task
    # that entered them, and pytest-asyncio may tear fixtures down in another.
    started, stop = asyncio.Event(), asyncio.Event()

    async def run() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    yield app
    stop.set()
    await task


@pytest.fixture
async def client(running_app) -> AsyncIterator[Client]:
    async with make_client(running_app) as c:
        yield c


@pytest.fixture
async def other_client(running_app) -> AsyncIterator[Client]:
    """A second browser on the same app (another device, another person)."""
    async with make_client(running_app) as c:
        yield c


# --- personas -------------------------------------------------------------------------------------

@dataclass
class Persona:
    id: int
    email: str
    name: str
    password: str
    role: str | None = None


PASSWORD = "correct horse battery"


async def _customer(app, email: str, name: str, *, verified: bool = True, locale: str = "tr") -> Persona:
    from portal.accounts.tables import Customer
    from portal.clock import now
    from portal.i18n import email_key

    hasher = app.state["services"].passwords
    row = Customer(email=email, email_key=email_key(email), name=name, locale=locale,
                   password_hash=await hasher.hash(PASSWORD), email_verified_at=now() if verified else None)
    await row.save()
    return Persona(row.id, email, name, PASSWORD)


async def _staff(app, email: str, name: str, role: str, team: str | None = "destek") -> Persona:
    from portal.accounts import service
    from portal.clock import now

    hasher = app.state["services"].passwords
    row = await service.create_staff(email=email, name=name, role=role, password_hash=await hasher.hash(PASSWORD),
                                     now=now(), team=team)
    return Persona(row["id"], email, name, PASSWORD, role)


@pytest.fixture
async def alice(client, app) -> Persona:
    return await _customer(app, "alice@example.com", "Alice Yılmaz")


@pytest.fixture
async def bob(client, app) -> Persona:
    return await _customer(app, "bob@example.com", "Bob Demir", locale="en")


@pytest.fixture
async def carol(client, app) -> Persona:
    return await _staff(app, "carol@example.com", "Carol Kaya", "agent")


@pytest.fixture
async def erin(client, app) -> Persona:
    return await _staff(app, "erin@example.com", "Erin Şahin", "lead")


@pytest.fixture
async def dave(client, app) -> Persona:
    return await _staff(app, "dave@example.com", "Dave Öztürk", "admin")


async def login(client: Client, who: Persona) -> None:
    response = await client.post_form("/login", {"email": who.email, "password": who.password})
    assert response.status_code == 303, response.text


async def staff_login(client: Client, who: Persona) -> None:
    response = await client.post_form("/staff/login", {"email": who.email, "password": who.password})
    assert response.status_code == 303, response.text


async def outbox_to(address: str) -> list[dict]:
    from portal.mail.tables import Outbox

    return await Outbox.select().where(Outbox.to_addr == address).order_by(Outbox.id)


def link_in(text: str, path_prefix: str) -> str:
    """The first link in a mail body that starts with BASE_URL + path_prefix, as a path."""
    match = re.search(re.escape(BASE_URL + path_prefix) + r"[^\s\"'<>]*", text)
    assert match, f"no {path_prefix} link in: {text[:500]}"
    return match.group(0)[len(BASE_URL):]
