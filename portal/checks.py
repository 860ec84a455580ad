"""`portal check`: is the configuration usable, and does every service answer?"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from portal.settings import Settings


async def run_checks(settings: Settings, *, echo: Callable[[str], None]) -> bool:
    ok = True

    def report(name: str, passed: bool, detail: str) -> None:
        nonlocal ok
        ok = ok and passed
        echo(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}")

    report("configuration", True, f"base URL {settings.base_url}, language {settings.default_locale}, "
                                  f"time zone {settings.timezone}, {settings.workers} process(es)")
    from portal import db

    engine = db.make_engine(settings)
    db.bind(engine)
    try:
        await db.start(engine, pool_size=1)
        reachable = await db.ping()
        report("database", reachable, settings.database_url.split("@")[-1] if reachable else "not reachable")
        if reachable:
            pending = await _pending_migrations()
            report("migrations", not pending,
                   "up to date" if not pending else f"{pending} not applied: run `portal migrate`")
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        report("database", False, str(exc))
    finally:
        await db.stop(engine)

    if settings.smtp:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(settings.smtp.host, settings.smtp.port), timeout=5)
            banner = await asyncio.wait_for(reader.readline(), timeout=5)
            writer.close()
            report("smtp", banner.startswith(b"220"), f"{settings.smtp.host}:{settings.smtp.port} "
                                                      f"{banner.decode(errors='replace').strip()[:60]}")
        except (OSError, TimeoutError) as exc:
            report("smtp", False, f"{settings.smtp.host}:{settings.smtp.port} {exc}")
    else:
        report("smtp", True, "not configured: mail stays in the outbox (staff mail log)")

    if settings.redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(settings.redis_url)
        try:
            report("redis", bool(await asyncio.wait_for(client.ping(), timeout=5)), "answers")
        except Exception as exc:  # noqa: BLE001
            report("redis", False, str(exc))
        finally:
            await client.aclose()
    else:
        report("redis", True, "not configured: sessions in files, limits in memory (one process)")
    return ok


async def _pending_migrations() -> int:
    from piccolo.apps.migrations.commands.base import BaseMigrationManager
    from piccolo.apps.migrations.tables import Migration

    manager = BaseMigrationManager()
    pending = 0
    for app_name in manager.get_sorted_app_names():
        app_config = manager.get_app_config(app_name)
        ids = set(manager.get_migration_ids(manager.get_migration_modules(app_config.migrations_folder_path)))
        if not await Migration.table_exists():
            return len(ids) or 1
        done = set(await Migration.get_migrations_which_ran(app_name=app_name))
        pending += len(ids - done)
    return pending
