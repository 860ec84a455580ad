"""Database engines, binding and migrations.

Piccolo's stock ``SQLiteEngine`` opens a fresh connection (a new thread, ``connect``,
``PRAGMA``) for every query outside a transaction: about 2.5 ms each, which caps a page
that reads the database at roughly 5% of the framework's speed. :class:`PortalSQLiteEngine`
keeps one persistent autocommit connection per process for those queries and a small pool
of connections for transactions, in WAL mode. PostgreSQL uses Piccolo's own pool.

Writes go through :func:`transaction`, which is ``BEGIN IMMEDIATE`` on SQLite (a deferred
transaction that later writes can fail with "database is locked").
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString
from piccolo.table import Table

from portal.settings import Settings, sqlite_path

os.environ.setdefault("PICCOLO_CONF", "portal.piccolo_conf")

APP_MODULES = (
    "portal.accounts.piccolo_app",
    "portal.mail.piccolo_app",
    "portal.orders.piccolo_app",
    "portal.tags.piccolo_app",
    "portal.tickets.piccolo_app",
    "portal.kb.piccolo_app",
    "portal.forms.piccolo_app",
    "portal.value.piccolo_app",
    "portal.routing.piccolo_app",
    "portal.surveys.piccolo_app",
    "portal.sla.piccolo_app",
)


class _PooledTransaction(SQLiteTransaction):
    """A transaction that hands its connection back to the engine's pool instead of closing it."""

    async def get_connection(self) -> aiosqlite.Connection:
        return await self.engine.acquire()  # type: ignore[attr-defined]

    async def __aexit__(self, exception_type, exception, traceback) -> bool:  # type: ignore[override]
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            await self.connection.close()
            self.engine.current_transaction.reset(self.context)
            raise
        self.engine.release(self.connection)  # type: ignore[attr-defined]
        self.engine.current_transaction.reset(self.context)
        return exception is None


class PortalSQLiteEngine(SQLiteEngine):
    """SQLite with a persistent connection per process (see module docstring)."""

    def __init__(self, path: str, pool_size: int = 4) -> None:
        super().__init__(path=path, timeout=30)
        self._shared: aiosqlite.Connection | None = None
        self._shared_lock = asyncio.Lock()
        self._pool: list[aiosqlite.Connection] = []
        self._pool_size = pool_size
        self._reader: sqlite3.Connection | None = None
        self.query_count = 0

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(**self.connection_kwargs)
        conn.row_factory = dict_factory  # type: ignore[assignment]
        await conn.execute("PRAGMA foreign_keys = 1")
        await conn.execute("PRAGMA busy_timeout = 30000")
        await conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    async def prep_database(self) -> None:
        conn = await aiosqlite.connect(self.path)
        try:
            await conn.execute("PRAGMA journal_mode = WAL")
        finally:
            await conn.close()

    async def acquire(self) -> aiosqlite.Connection:
        if self._pool:
            return self._pool.pop()
        return await self._connect()

    def release(self, conn: aiosqlite.Connection) -> None:
        if len(self._pool) < self._pool_size:
            self._pool.append(conn)
        else:
            asyncio.ensure_future(conn.close())

    async def get_connection(self) -> aiosqlite.Connection:
        return await self._connect()

    async def _shared_connection(self) -> aiosqlite.Connection:
        if self._shared is None:
            async with self._shared_lock:
                if self._shared is None:
                    self._shared = await self._connect()
        return self._shared

    # ``execute_fetchall`` is one hop to aiosqlite's thread; ``async with execute() as cursor:
    # fetchall()`` is three (execute, fetch, close), each a queue put and a wake-up of the loop.
    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None,
                                     query_type: str = "generic", table: type[Table] | None = None):
        self.query_count += 1
        conn = await self._shared_connection()
        return await conn.execute_fetchall(query, args or [])

    async def _run_in_existing_connection(self, connection, query: str, args: list[Any] | None = None,
                                          query_type: str = "generic", table: type[Table] | None = None):
        self.query_count += 1
        return await connection.execute_fetchall(query, args or [])

    async def fetch_raw(self, sql: str, args: tuple[Any, ...]) -> list[dict]:
        """Rows of a ready SQL string (``?`` placeholders), in the current transaction if any.

        Outside a transaction these are the per-request look-ups by primary key (tens of
        microseconds): they run on a plain ``sqlite3`` connection in the event loop's own
        thread, which costs less than handing the query to aiosqlite's thread and waking the
        loop again. WAL readers do not wait for writers; if the file is busy anyway (a
        checkpoint), the query goes the usual asynchronous way instead of blocking the loop.
        """
        self.query_count += 1
        tx = self.current_transaction.get()
        if tx is not None:
            return list(await tx.connection.execute_fetchall(sql, args))
        try:
            reader = self._reader
            if reader is None:
                reader = self._reader = sqlite3.connect(**{**self.connection_kwargs, "timeout": 0.05})
                reader.row_factory = dict_factory  # type: ignore[assignment]
            return reader.execute(sql, args).fetchall()
        except (sqlite3.OperationalError, sqlite3.ProgrammingError):  # busy; or another thread's engine
            conn = await self._shared_connection()
            return list(await conn.execute_fetchall(sql, args))

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred,
                    allow_nested: bool = True) -> SQLiteTransaction:
        return _PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def close(self) -> None:
        conns = [*self._pool, *([self._shared] if self._shared else [])]
        self._pool, self._shared = [], None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        for conn in conns:
            await conn.close()


class PortalPostgresEngine(PostgresEngine):
    """PostgreSQL through Piccolo's asyncpg pool, with a query counter for the N+1 tests."""

    query_count = 0

    async def run_querystring(self, querystring, in_pool: bool = True):  # type: ignore[override]
        self.query_count += 1
        return await super().run_querystring(querystring, in_pool=in_pool)

    async def fetch_raw(self, sql: str, args: tuple[Any, ...]) -> list[dict]:
        """Rows of a ready SQL string (``$n`` placeholders), in the current transaction if any."""
        self.query_count += 1
        tx = self.current_transaction.get()
        if tx is not None:
            rows = await tx.connection.fetch(sql, *args)
        elif self.pool is not None:
            rows = await self.pool.fetch(sql, *args)
        else:
            conn = await self.get_new_connection()
            try:
                rows = await conn.fetch(sql, *args)
            finally:
                await conn.close()
        return [dict(row) for row in rows]

    async def close(self) -> None:
        await self.close_connection_pool()


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith("sqlite"):
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return PortalSQLiteEngine(str(path))
    return PortalPostgresEngine(config={"dsn": url.replace("postgres://", "postgresql://", 1)})


def all_tables() -> list[type[Table]]:
    from piccolo.apps.migrations.tables import Migration

    from portal import piccolo_conf

    tables: list[type[Table]] = [Migration]
    for app_config in piccolo_conf.APP_REGISTRY.app_configs.values():
        tables.extend(app_config.table_classes)
    return tables


def bind(engine: Engine) -> None:
    """Point every table (and Piccolo's migration runner) at ``engine``."""
    from portal import piccolo_conf

    piccolo_conf.DB = engine
    for table in all_tables():
        table._meta.db = engine


def current_engine() -> Engine:
    from portal import piccolo_conf

    return piccolo_conf.DB


async def _keep_session(connection: Any) -> None:
    """Release a pooled connection as it is (asyncpg still rolls back an open transaction).

    asyncpg's default sends ``RESET ALL; CLOSE ALL; UNLISTEN *; …`` on every release: one more
    round trip per query outside a transaction, as dear as the query itself. The portal never
    changes session state on a pooled connection (no ``SET``, ``LISTEN`` or session advisory
    locks; advisory locks are transaction-scoped), so there is nothing to reset.
    """


async def start(engine: Engine, *, pool_size: int = 10) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=pool_size, reset=_keep_session)
    else:
        await engine.prep_database()


async def stop(engine: Engine) -> None:
    await engine.close()  # type: ignore[attr-defined]


@asynccontextmanager
async def transaction() -> AsyncIterator[Any]:
    """A write transaction: ``BEGIN IMMEDIATE`` on SQLite, a plain transaction on PostgreSQL."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        tx = engine.transaction(transaction_type=TransactionType.immediate)
    else:
        tx = engine.transaction()
    async with tx as t:
        yield t


_COMPILED: dict[tuple[str, bool], str] = {}


def _compile(sql: str, sqlite: bool) -> str:
    key = (sql, sqlite)
    compiled = _COMPILED.get(key)
    if compiled is None:
        parts = sql.split("{}")
        if sqlite:
            compiled = "?".join(parts)
        else:
            compiled = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
        _COMPILED[key] = compiled
    return compiled


async def fetch_all(sql: str, *args: Any) -> list[dict]:
    """Every row of a fixed read query with ``{}`` placeholders (see :func:`fetch_one`)."""
    engine = current_engine()
    fetch = getattr(engine, "fetch_raw", None)
    if fetch is None:  # a stock Piccolo engine (tests may bind one)
        return list(await engine.run_querystring(QueryString(sql, *args)))  # type: ignore[attr-defined]
    return await fetch(_compile(sql, isinstance(engine, SQLiteEngine)), args)


async def fetch_one(sql: str, *args: Any) -> dict | None:
    """The first row of a fixed read query with ``{}`` placeholders, or ``None``.

    For the few queries of every request (the logged-in customer or staff member): building a
    query with Piccolo's query builder costs more than running it. The SQL is compiled once per
    engine kind; values are always bound parameters. Counted in ``query_count`` like any query.
    """
    rows = await fetch_all(sql, *args)
    return rows[0] if rows else None


def in_transaction() -> bool:
    return current_engine().transaction_exists()


def is_sqlite() -> bool:
    return isinstance(current_engine(), SQLiteEngine)


async def migrate(engine: Engine, *, quiet: bool = True) -> None:
    """Run every app's migrations forwards (idempotent)."""
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards

    bind(engine)
    out = io.StringIO()
    with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}\n{out.getvalue()}")


async def ping() -> bool:
    try:
        await fetch_one("SELECT 1 AS ok")  # run_ddl would open a new SQLite connection each time
    except (OSError, sqlite3.Error, Exception):  # noqa: BLE001 - any failure means "not reachable"
        return False
    return True
