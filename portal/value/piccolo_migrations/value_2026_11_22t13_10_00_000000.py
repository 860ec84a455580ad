from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T13:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "index on customer_value.computed_at"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="value", description=DESCRIPTION)

    async def index():
        # Every worker's hourly housekeeping asks MIN(computed_at) (``refresh_due``): with the
        # index that is one index probe instead of a scan of a row per customer.
        from piccolo.engine import engine_finder

        await engine_finder().run_ddl(
            "CREATE INDEX IF NOT EXISTS customer_value_computed_at ON customer_value (computed_at)")

    manager.add_raw(index)
    return manager
