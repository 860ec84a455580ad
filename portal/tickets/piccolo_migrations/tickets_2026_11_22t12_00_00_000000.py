from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "queue indexes: mine, one status, solved today"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tickets", description=DESCRIPTION)

    async def indexes():
        # Measured in docs/performance.md ("Query plans of the queue views"): without them
        # "mine" filtered 100,000 open tickets for an agent with few (575 ms at 1M tickets)
        # and "solved today" scanned every solved ticket.
        from piccolo.engine import engine_finder

        engine = engine_finder()
        open_ = "WHERE status IN ('new', 'open', 'pending', 'on_hold')"
        await engine.run_ddl(
            f"CREATE INDEX IF NOT EXISTS ticket_open_assignee_due ON ticket (assignee, due_at, id) {open_}")
        await engine.run_ddl("CREATE INDEX IF NOT EXISTS ticket_status_due ON ticket (status, due_at, id)")
        await engine.run_ddl("CREATE INDEX IF NOT EXISTS ticket_status_solved ON ticket (status, solved_at)")

    manager.add_raw(indexes)
    return manager
