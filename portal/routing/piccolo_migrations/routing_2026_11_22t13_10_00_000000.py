from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T13:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "routing rules and automatic assignment move the 'routing' settings version (per-process cache)"

CONFIG_VERSION = ("CREATE TABLE IF NOT EXISTS config_version (name VARCHAR(20) PRIMARY KEY, "
                  "version BIGINT NOT NULL DEFAULT 0)")
# Every column a routing decision reads; not matched_count / last_matched_at (nor a team's
# round-robin cursor, last_staff), which move on openings.
RULE_COLUMNS = "name, position, active, stop, conditions, set_team, set_priority, add_tags, set_assignee"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="routing", description=DESCRIPTION)

    async def run():
        from piccolo.engine import engine_finder
        from piccolo.engine.sqlite import SQLiteEngine

        engine = engine_finder()
        await engine.run_ddl(CONFIG_VERSION)
        bump = ("INSERT INTO config_version (name, version) VALUES ('routing', 1) "
                "ON CONFLICT (name) DO UPDATE SET version = config_version.version + 1")
        if isinstance(engine, SQLiteEngine):
            for table, columns in (("routing_rule", RULE_COLUMNS), ("team_assignment", "team, auto_assign")):
                for name, when in (("ins", "INSERT"), ("del", "DELETE"), ("upd", f"UPDATE OF {columns}")):
                    await engine.run_ddl(f"CREATE TRIGGER IF NOT EXISTS {table}_version_{name} AFTER {when} "
                                         f"ON {table} BEGIN {bump}; END")
            return
        await engine.run_ddl(
            "CREATE OR REPLACE FUNCTION config_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO config_version (name, version) VALUES (TG_ARGV[0], 1) "
            "ON CONFLICT (name) DO UPDATE SET version = config_version.version + 1; RETURN NULL; END $$")
        for table, columns in (("routing_rule", RULE_COLUMNS), ("team_assignment", "team, auto_assign")):
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")
            await engine.run_ddl(
                f"CREATE TRIGGER {table}_version AFTER INSERT OR DELETE OR UPDATE OF {columns} "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION config_version_bump('routing')")

    async def run_backwards():
        from piccolo.engine import engine_finder
        from piccolo.engine.sqlite import SQLiteEngine

        engine = engine_finder()
        for table in ("routing_rule", "team_assignment"):
            if isinstance(engine, SQLiteEngine):
                for name in ("ins", "del", "upd"):
                    await engine.run_ddl(f"DROP TRIGGER IF EXISTS {table}_version_{name}")
            else:
                await engine.run_ddl(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
