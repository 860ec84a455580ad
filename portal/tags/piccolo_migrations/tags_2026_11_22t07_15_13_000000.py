from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T07:15:13:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes Piccolo cannot declare"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tags", description=DESCRIPTION)

    async def unique_tagging():
        # One tag once per record; also the index behind "records with this tag".
        from piccolo.engine import engine_finder

        engine = engine_finder()
        await engine.run_ddl("CREATE UNIQUE INDEX IF NOT EXISTS tagging_unique ON tagging (tag, kind, object_id)")
        await engine.run_ddl("CREATE INDEX IF NOT EXISTS tagging_object ON tagging (kind, object_id)")

    manager.add_raw(unique_tagging)
    return manager
