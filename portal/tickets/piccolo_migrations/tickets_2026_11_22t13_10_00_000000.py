from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T13:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ticket numbers from a sequence (PostgreSQL); the settings version counters"

# The settings that openings cache per process (portal.tickets.cached) are versioned here:
# triggers of the routing and SLA apps move a counter on every change of their tables.
CONFIG_VERSION = ("CREATE TABLE IF NOT EXISTS config_version (name VARCHAR(20) PRIMARY KEY, "
                  "version BIGINT NOT NULL DEFAULT 0)")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tickets", description=DESCRIPTION)

    async def run():
        from piccolo.engine import engine_finder
        from piccolo.engine.sqlite import SQLiteEngine

        engine = engine_finder()
        await engine.run_ddl(CONFIG_VERSION)
        if isinstance(engine, SQLiteEngine):
            return  # SQLite's write transaction is exclusive: MAX(number) + 1 (an index) is enough
        # ``number = 1000 + nextval``: concurrent openings no longer take turns for MAX(number).
        await engine.run_ddl("CREATE SEQUENCE IF NOT EXISTS ticket_number_seq")
        await engine.run_ddl(
            "SELECT setval('ticket_number_seq', GREATEST(COALESCE(MAX(number), 1000) - 1000, 1), "
            "MAX(number) IS NOT NULL) FROM ticket")

    async def run_backwards():
        from piccolo.engine import engine_finder
        from piccolo.engine.sqlite import SQLiteEngine

        engine = engine_finder()
        if not isinstance(engine, SQLiteEngine):
            await engine.run_ddl("DROP SEQUENCE IF EXISTS ticket_number_seq")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
