from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T07:33:27:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes Piccolo cannot declare"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tickets", description=DESCRIPTION)

    async def queue_indexes():
        # The queue: open tickets by nearest due time (nulls last), then oldest first; a
        # partial index keeps it small (about one ticket in ten is open).
        from piccolo.engine import engine_finder

        engine = engine_finder()
        await engine.run_ddl(
            "CREATE INDEX IF NOT EXISTS ticket_open_due ON ticket (due_at, id) "
            "WHERE status IN ('new', 'open', 'pending', 'on_hold')")
        await engine.run_ddl("CREATE INDEX IF NOT EXISTS ticket_requester_id ON ticket (requester, id)")
        await engine.run_ddl("CREATE INDEX IF NOT EXISTS ticket_message_ticket_id ON ticket_message (ticket, id)")

    manager.add_raw(queue_indexes)
    return manager
