"""One "this answered my question" per form, visitor token and article.

A unique index that Piccolo's auto migrations cannot express (three columns): two clicks at
once insert one row (``INSERT … ON CONFLICT DO NOTHING`` in
:func:`portal.forms.service.record_deflection`). Duplicates counted before are removed first.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T11:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "forms: one deflection per form, token and article"

FORWARDS = (
    "DELETE FROM form_deflection WHERE id NOT IN ("
    "SELECT MIN(id) FROM form_deflection GROUP BY form, token_id, article)",
    "CREATE UNIQUE INDEX IF NOT EXISTS form_deflection_once ON form_deflection (form, token_id, article)",
)
BACKWARDS = ("DROP INDEX IF EXISTS form_deflection_once",)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="forms", description=DESCRIPTION)

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
