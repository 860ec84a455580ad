"""One row per ticket and target in ``ticket_sla``, and the default calendar
(Mon–Fri 09:00–18:00 Europe/Istanbul with Turkey's public holidays)."""

from datetime import datetime, timezone

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-22T10:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ticket_sla unique (ticket, target); the default calendar"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sla", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        await engine.run_ddl("CREATE UNIQUE INDEX IF NOT EXISTS ticket_sla_ticket_target ON ticket_sla (ticket, target)")
        await engine.run_querystring(QueryString(
            "INSERT INTO sla_calendar (name, timezone, always_open, public_holidays, mon, tue, wed, thu, fri, sat,"
            " sun, is_default, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
            "Mesai saatleri", "Europe/Istanbul", False, True, *(["09:00-18:00"] * 5), "", "", True,
            datetime.now(timezone.utc)))

    async def run_backwards():
        engine = engine_finder()
        await engine.run_ddl("DROP INDEX IF EXISTS ticket_sla_ticket_target")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
