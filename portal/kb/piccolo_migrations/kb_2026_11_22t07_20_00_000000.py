"""Full-text search and the unique keys that Piccolo's auto migrations cannot express.

Both engines index the same Python-folded, stemmed text (``search_title``/``search_body``,
see ``portal/kb/text.py``), so a query finds the same articles on either:

- SQLite: external-content FTS5 tables, one over the title and the body, one over the title
  alone (so "title matches first" reads the short title lists, not every body that has the
  word), kept in sync by triggers (only when the search columns change, so a view count does
  not touch the index), with prefix indexes for search-as-you-type. The tokenizer does no
  folding of its own.
- PostgreSQL: stored generated ``tsvector`` columns, the whole article (title weight A, body
  weight B) and the title alone, with the ``simple`` configuration (the text is already
  folded and stemmed; the ``turkish`` configuration would lower-case İ/I by the database's
  locale) and a GIN index each.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-22T07:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "kb: full-text index, unique slugs per language, one vote per visitor"

COMMON = (
    "CREATE UNIQUE INDEX IF NOT EXISTS kb_article_lang_slug ON kb_article (lang, slug)",
    "CREATE UNIQUE INDEX IF NOT EXISTS kb_vote_visitor ON kb_vote (article, visitor_hash)",
    "CREATE UNIQUE INDEX IF NOT EXISTS kb_related_pair ON kb_related (article, related)",
    # Topic lists and counts (covering), and "popular articles" walked in views order.
    "CREATE INDEX IF NOT EXISTS kb_article_list ON kb_article (lang, status, visibility, category, publish_at)",
    "CREATE INDEX IF NOT EXISTS kb_article_popular ON kb_article (lang, status, views)",
    "CREATE INDEX IF NOT EXISTS kb_search_log_query ON kb_search_log (created_at, query, lang)",
)
SQLITE = (
    # The visibility check of a search reads these columns for every match: from a covering
    # index it never touches the article rows (whose long texts span overflow pages).
    "CREATE INDEX IF NOT EXISTS kb_article_visible ON kb_article (id, lang, status, visibility, publish_at)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_article_fts USING fts5("
    "search_title, search_body, content='kb_article', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', prefix='2 3 4')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS kb_title_fts USING fts5("
    "search_title, content='kb_article', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', prefix='2 3 4')",
    "CREATE TRIGGER IF NOT EXISTS kb_article_fts_ai AFTER INSERT ON kb_article BEGIN "
    "INSERT INTO kb_article_fts(rowid, search_title, search_body) "
    "VALUES (new.id, new.search_title, new.search_body); "
    "INSERT INTO kb_title_fts(rowid, search_title) VALUES (new.id, new.search_title); END",
    "CREATE TRIGGER IF NOT EXISTS kb_article_fts_ad AFTER DELETE ON kb_article BEGIN "
    "INSERT INTO kb_article_fts(kb_article_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); "
    "INSERT INTO kb_title_fts(kb_title_fts, rowid, search_title) VALUES ('delete', old.id, old.search_title); END",
    "CREATE TRIGGER IF NOT EXISTS kb_article_fts_au AFTER UPDATE OF search_title, search_body "
    "ON kb_article BEGIN "
    "INSERT INTO kb_article_fts(kb_article_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); "
    "INSERT INTO kb_article_fts(rowid, search_title, search_body) "
    "VALUES (new.id, new.search_title, new.search_body); "
    "INSERT INTO kb_title_fts(kb_title_fts, rowid, search_title) VALUES ('delete', old.id, old.search_title); "
    "INSERT INTO kb_title_fts(rowid, search_title) VALUES (new.id, new.search_title); END",
)
POSTGRES = (
    "ALTER TABLE kb_article ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, coalesce(search_title, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(search_body, '')), 'B')) STORED",
    "CREATE INDEX IF NOT EXISTS kb_article_search ON kb_article USING gin (search_vector)",
    "ALTER TABLE kb_article ADD COLUMN IF NOT EXISTS title_vector tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple'::regconfig, coalesce(search_title, ''))) STORED",
    "CREATE INDEX IF NOT EXISTS kb_article_title_search ON kb_article USING gin (title_vector)",
)
SQLITE_BACK = (
    "DROP INDEX IF EXISTS kb_article_visible",
    "DROP TRIGGER IF EXISTS kb_article_fts_ai",
    "DROP TRIGGER IF EXISTS kb_article_fts_ad",
    "DROP TRIGGER IF EXISTS kb_article_fts_au",
    "DROP TABLE IF EXISTS kb_article_fts",
    "DROP TABLE IF EXISTS kb_title_fts",
)
POSTGRES_BACK = (
    "DROP INDEX IF EXISTS kb_article_title_search",
    "ALTER TABLE kb_article DROP COLUMN IF EXISTS title_vector",
    "DROP INDEX IF EXISTS kb_article_search",
    "ALTER TABLE kb_article DROP COLUMN IF EXISTS search_vector",
)
COMMON_BACK = (
    "DROP INDEX IF EXISTS kb_article_lang_slug",
    "DROP INDEX IF EXISTS kb_vote_visitor",
    "DROP INDEX IF EXISTS kb_related_pair",
    "DROP INDEX IF EXISTS kb_article_list",
    "DROP INDEX IF EXISTS kb_article_popular",
    "DROP INDEX IF EXISTS kb_search_log_query",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="kb", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        specific = SQLITE if isinstance(engine, SQLiteEngine) else POSTGRES
        for sql in (*COMMON, *specific):
            await engine.run_ddl(sql)

    async def run_backwards():
        engine = engine_finder()
        specific = SQLITE_BACK if isinstance(engine, SQLiteEngine) else POSTGRES_BACK
        for sql in (*specific, *COMMON_BACK):
            await engine.run_ddl(sql)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
