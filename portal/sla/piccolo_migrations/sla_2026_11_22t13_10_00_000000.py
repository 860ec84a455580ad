from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T13:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "SLA policies and calendars move the 'sla' settings version (the per-process cache)"

CONFIG_VERSION = ("CREATE TABLE IF NOT EXISTS config_version (name VARCHAR(20) PRIMARY KEY, "
                  "version BIGINT NOT NULL DEFAULT 0)")
TABLES = ("sla_policy", "sla_calendar", "sla_calendar_closure")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sla", description=DESCRIPTION)

    async def run():
        from piccolo.engine import engine_finder
        from piccolo.engine.sqlite import SQLiteEngine

        engine = engine_finder()
        await engine.run_ddl(CONFIG_VERSION)
        bump = ("INSERT INTO config_version (name, version) VALUES ('sla', 1) "
                "ON CONFLICT (name) DO UPDATE SET version = config_version.version + 1")
        if isinstance(engine, SQLiteEngine):
            for table in TABLES:
                for name in ("INSERT", "DELETE", "UPDATE"):
                    await engine.run_ddl(f"CREATE TRIGGER IF NOT EXISTS {table}_version_{name.lower()} "
                                         f"AFTER {name} ON {table} BEGIN {bump}; END")
            return
        await engine.run_ddl(
            "CREATE OR REPLACE FUNCTION config_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO config_version (name, version) VALUES (TG_ARGV[0], 1) "
            "ON CONFLICT (name) DO UPDATE SET version = config_version.version + 1; RETURN NULL; END $$")
        for table in TABLES:
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")
            await engine.run_ddl(f"CREATE TRIGGER {table}_version AFTER INSERT OR DELETE OR UPDATE ON {table} "
                                 "FOR EACH ROW EXECUTE FUNCTION config_version_bump('sla')")

    async def run_backwards():
        from piccolo.engine import engine_finder
        from piccolo.engine.sqlite import SQLiteEngine

        engine = engine_finder()
        for table in TABLES:
            if isinstance(engine, SQLiteEngine):
                for name in ("insert", "delete", "update"):
                    await engine.run_ddl(f"DROP TRIGGER IF EXISTS {table}_version_{name}")
            else:
                await engine.run_ddl(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
