"""Indexes for the outbox that Piccolo's auto migrations cannot express (partial indexes).

- ``outbox_due``: the worker's claim (``sent_at IS NULL AND failed_at IS NULL AND run_after <= now
  ORDER BY run_after, id``) reads only the queued rows, however many millions were sent.
- ``outbox_failed``: the mail log's "failed" filter and the dashboard count.
- ``outbox_to_addr``: the mail log's recipient filter, newest first.

The SQL is valid on SQLite and PostgreSQL alike; ``IF NOT EXISTS`` keeps it re-runnable.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T07:10:32:328419"
VERSION = "1.38.0"
DESCRIPTION = "outbox: partial indexes for claiming and the mail log"

FORWARDS = (
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (run_after, id) "
    "WHERE sent_at IS NULL AND failed_at IS NULL",
    "CREATE INDEX IF NOT EXISTS outbox_failed ON outbox (id) WHERE failed_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS outbox_to_addr ON outbox (to_addr, id)",
)
BACKWARDS = (
    "DROP INDEX IF EXISTS outbox_due",
    "DROP INDEX IF EXISTS outbox_failed",
    "DROP INDEX IF EXISTS outbox_to_addr",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mail", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in FORWARDS:
            await engine.run_ddl(sql)

    async def run_backwards():
        engine = engine_finder()
        for sql in BACKWARDS:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
