"""Per-process caches of settings every ticket opening reads and admins rarely change: the
routing rules and the SLA policies and business calendars.

Each cached value is stored with the version of its area (``routing``, ``sla``) from the
``config_version`` table, which database triggers move on every insert, update and delete of
the area's tables, whoever writes (the admin pages, the demo, a script, another process). A
reader takes the versions (one read of a two-row table; once for a whole ticket opening, see
:func:`pinned`) and uses a cached value only when its version is still the current one, so a
change is seen by every process at its next opening, exactly like a fresh read: never a stale
result, and no TTL.

The caches hang on the engine object: a new engine (another database, each test) starts
empty. Values are shared between callers: treat them as read-only.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from portal import db

T = TypeVar("T")

AREAS = ("routing", "sla")
_PINNED: ContextVar[dict[str, int] | None] = ContextVar("portal_config_versions", default=None)


def _store() -> dict[Any, tuple[int, Any]]:
    engine = db.current_engine()
    store = getattr(engine, "_portal_settings_cache", None)
    if store is None:
        store = {}
        engine._portal_settings_cache = store  # type: ignore[attr-defined]
    return store


async def versions() -> dict[str, int]:
    """The areas' current versions (the pinned ones inside :func:`pinned`)."""
    pinned_now = _PINNED.get()
    if pinned_now is not None:
        return pinned_now
    rows = await db.fetch_all("SELECT name, version FROM config_version")
    found = {area: 0 for area in AREAS}
    found.update({r["name"]: int(r["version"]) for r in rows})
    return found


@contextlib.asynccontextmanager
async def pinned() -> AsyncIterator[None]:
    """Read the versions once for a unit of work that changes no settings itself (a ticket
    opening with its hooks, inside its transaction)."""
    token = _PINNED.set(await versions())
    try:
        yield
    finally:
        _PINNED.reset(token)


async def get(area: str, key: Any, load: Callable[[], Awaitable[T]]) -> T:
    """The value for ``(area, key)``: cached while the area's version stays, else ``load()``."""
    version = (await versions())[area]
    store = _store()
    hit = store.get((area, key))
    if hit is not None and hit[0] == version:
        return hit[1]
    value = await load()
    # Kept only when read outside a transaction, or for a ticket opening (which changes no
    # settings): a transaction that changed settings and then rolls back would otherwise leave
    # its uncommitted rows under a version number the next real change takes again.
    if _PINNED.get() is not None or not db.in_transaction():
        store[(area, key)] = (version, value)
    return value


def clear() -> None:
    """Forget every cached value of the current engine (tests, benchmarks)."""
    _store().clear()
