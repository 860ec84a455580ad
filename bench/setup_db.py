"""Run in its own process by the harness (``python -m bench.setup_db``): migrate the database
named by ``PORTAL_DATABASE_URL`` and add one verified customer to log in as (unless it is there)."""

from __future__ import annotations

import asyncio
import os
import sys
import traceback

EMAIL = "bench@example.com"
PASSWORD = "benchmark password 2026"  # noqa: S105 - a throwaway account in a throwaway database


async def main() -> None:
    from portal import db
    from portal.accounts.tables import Customer
    from portal.clock import now
    from portal.i18n import email_key
    from portal.security import Passwords
    from portal.settings import Settings

    engine = db.make_engine(Settings.from_env())
    await db.start(engine)
    try:
        await db.migrate(engine)
        if await Customer.exists().where(Customer.email == EMAIL):
            return  # a kept database (``--reuse``): migrated, nothing else to add
        await Customer(
            email=EMAIL,
            email_key=email_key(EMAIL),
            name="Ayşe Benchmark",
            locale="tr",
            password_hash=await Passwords().hash(PASSWORD),
            email_verified_at=now(),
        ).save()
    finally:
        await db.stop(engine)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)  # a failed migration can leave aiosqlite threads behind that would keep us alive
