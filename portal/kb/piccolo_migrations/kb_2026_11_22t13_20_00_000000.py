"""Search at 50,000 articles: a change token for the result cache, and narrower indexes.

- ``kb_search_state``: one row whose ``token`` becomes a new random value, in the same
  transaction, whenever an article is inserted or deleted or a column that search reads or
  filters on changes (text, title, language, status, visibility, publish date…; not the view
  and vote counters). Each process's search cache (``portal/kb/search.py``) reads it before
  answering from memory, so an edit in any process is seen by all at once. Triggers rather
  than application code, so every writer (a bulk import, a restore, plain SQL) counts. The
  migration creates the row, so an existing knowledge base is cached from the start.
- PostgreSQL: the full-text GIN indexes become partial ones per language over published
  articles. A search in Turkish no longer fetches every English article that has the word
  only to filter it out on the heap (an English query typed on a Turkish page: 30 ms → 0.1 ms
  at 50,000 articles).
- ``kb_article_schedule``: the next scheduled publication, which is when cached results
  stop being valid.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-22T13:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "kb: search change token, per-language full-text indexes"

# What a search result shows or is filtered by: a change to any of these invalidates cached
# results. (views, helpful_*, suggest_* and updated_at alone do not.)
WATCHED = ("lang, slug, title, summary, body_text, search_title, search_body, status, visibility, "
           "publish_at, category, translation_group")

SQLITE_BUMP = ("INSERT INTO kb_search_state (id, token) VALUES (1, lower(hex(randomblob(16)))) "
               "ON CONFLICT (id) DO UPDATE SET token = excluded.token;")
SQLITE = (
    "CREATE TABLE IF NOT EXISTS kb_search_state (id INTEGER PRIMARY KEY, token TEXT NOT NULL)",
    f"CREATE TRIGGER IF NOT EXISTS kb_search_state_ai AFTER INSERT ON kb_article BEGIN {SQLITE_BUMP} END",
    f"CREATE TRIGGER IF NOT EXISTS kb_search_state_ad AFTER DELETE ON kb_article BEGIN {SQLITE_BUMP} END",
    f"CREATE TRIGGER IF NOT EXISTS kb_search_state_au AFTER UPDATE OF {WATCHED} ON kb_article "
    f"BEGIN {SQLITE_BUMP} END",
    "CREATE INDEX IF NOT EXISTS kb_article_schedule ON kb_article (status, publish_at)",
    "INSERT INTO kb_search_state (id, token) VALUES (1, lower(hex(randomblob(16)))) ON CONFLICT (id) DO NOTHING",
)
POSTGRES = (
    "CREATE TABLE IF NOT EXISTS kb_search_state (id integer PRIMARY KEY, token text NOT NULL)",
    "CREATE OR REPLACE FUNCTION kb_search_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO kb_search_state (id, token) VALUES (1, gen_random_uuid()::text) "
    "ON CONFLICT (id) DO UPDATE SET token = excluded.token; RETURN NULL; END $$",
    # Once per statement: a bulk COPY changes the token once, not once per row.
    "DROP TRIGGER IF EXISTS kb_search_changed ON kb_article",
    f"CREATE TRIGGER kb_search_changed AFTER INSERT OR DELETE OR UPDATE OF {WATCHED} ON kb_article "
    "FOR EACH STATEMENT EXECUTE FUNCTION kb_search_changed()",
    "CREATE INDEX IF NOT EXISTS kb_article_schedule ON kb_article (status, publish_at)",
    *(f"CREATE INDEX IF NOT EXISTS kb_article_{kind}_{lang} ON kb_article USING gin ({column}) "
      f"WHERE lang = '{lang}' AND status = 'published'"
      for lang in ("tr", "en") for kind, column in (("title", "title_vector"), ("search", "search_vector"))),
    "DROP INDEX IF EXISTS kb_article_search",
    "DROP INDEX IF EXISTS kb_article_title_search",
    "INSERT INTO kb_search_state (id, token) VALUES (1, gen_random_uuid()::text) ON CONFLICT (id) DO NOTHING",
)
SQLITE_BACK = (
    "DROP TRIGGER IF EXISTS kb_search_state_ai",
    "DROP TRIGGER IF EXISTS kb_search_state_ad",
    "DROP TRIGGER IF EXISTS kb_search_state_au",
    "DROP TABLE IF EXISTS kb_search_state",
    "DROP INDEX IF EXISTS kb_article_schedule",
)
POSTGRES_BACK = (
    "CREATE INDEX IF NOT EXISTS kb_article_search ON kb_article USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS kb_article_title_search ON kb_article USING gin (title_vector)",
    *(f"DROP INDEX IF EXISTS kb_article_{kind}_{lang}" for lang in ("tr", "en") for kind in ("title", "search")),
    "DROP INDEX IF EXISTS kb_article_schedule",
    "DROP TRIGGER IF EXISTS kb_search_changed ON kb_article",
    "DROP FUNCTION IF EXISTS kb_search_changed()",
    "DROP TABLE IF EXISTS kb_search_state",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="kb", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for sql in SQLITE if isinstance(engine, SQLiteEngine) else POSTGRES:
            await engine.run_ddl(sql)

    async def run_backwards():
        engine = engine_finder()
        for sql in SQLITE_BACK if isinstance(engine, SQLiteEngine) else POSTGRES_BACK:
            await engine.run_ddl(sql)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
