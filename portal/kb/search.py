"""Knowledge-base search: one query model, two engines, the same answers.

A query is cut to a sane size, stripped of control characters and broken into folded words
by :mod:`portal.kb.text` (so no FTS operator, quote or colon typed by a visitor ever reaches
the database as syntax). Each word becomes a group of alternatives, its stems; the last word
also matches as a prefix while the visitor is still typing it. All groups must match; when
that finds nothing and there are several words, any group may match (a question typed as a
sentence still finds something).

Ranking: articles whose *title* matches come first, then by relevance (FTS5 ``bm25`` with
the title weighted 10:1 on SQLite, ``ts_rank`` over weights A/B on PostgreSQL), then newest.
Snippets and highlighting are computed here, on the original text, by comparing folded
words, and built as escaped markup, once per result: results are kept per process and
checked against the database's change token on every search (see "the result cache").
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape
from piccolo.querystring import QueryString

from portal import db
from portal.kb.tables import LANGS
from portal.kb.text import folded_words, stems, word_parts, words

MAX_QUERY_CHARS = 200  # of the up to 5,000 a visitor may send
MAX_WORDS = 10
PREFIX_MIN = 2  # "a*" would match nearly everything
# Folded; both languages at once (a Turkish "de" is no English word worth finding either).
STOP_WORDS = frozenset(
    "ve veya ile icin bir bu su o da de ki mi mu ne gibi kadar daha cok en ama ancak ise olan olarak "
    "the a an and or of to in on for with is are be it this that as at by from"
    .split())
_COMBINING = re.compile("[\u0300-\u036f]")  # the marks NFKD splits off Turkish and European letters
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


@dataclass(frozen=True)
class Term:
    exact: tuple[str, ...]  # any of these words
    prefix: str | None = None  # or any word starting with this


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]
    folded: str  # the query as logged
    lang: str

    def __bool__(self) -> bool:
        return bool(self.terms)


def clean(raw: str | None) -> str:
    text = unicodedata.normalize("NFC", (raw or "")[:5000])
    return " ".join(_CONTROL.sub(" ", text).split())[:MAX_QUERY_CHARS]


def parse(raw: str | None, lang: str) -> Query:
    text = clean(raw)
    # The last word is still being typed unless the query ends with a space or punctuation
    # (or was cut short here).
    raw_end = unicodedata.normalize("NFC", (raw or "")[:5000])[-1:]
    return _parse(text, raw_end.isalnum() and len(text) < MAX_QUERY_CHARS, lang)


@lru_cache(maxsize=4096)
def _parse(text: str, typing_end: bool, lang: str) -> Query:
    """The query of a cleaned text (cached per process: the same searches come again and
    again, and a Query is immutable)."""
    found = folded_words(text)[:MAX_WORDS]
    typing = bool(found) and typing_end
    # Words like "ve" or "the" are in nearly every article: they find nothing more and cost
    # the most, so they are left out when the query has other words.
    content = [w for w in found if w not in STOP_WORDS]
    if content:
        # A stop word still being typed stays: "ve" may be the start of "veri".
        found = content + ([found[-1]] if typing and found[-1] in STOP_WORDS else [])
    terms = []
    for i, word in enumerate(found):
        exact = tuple(sorted(stems(word, lang)))
        is_last = i == len(found) - 1
        prefix = word if typing and is_last and len(word) >= PREFIX_MIN else None
        terms.append(Term(exact=exact, prefix=prefix))
    return Query(terms=tuple(terms), folded=" ".join(found)[:200], lang=lang)


# --- the two engines --------------------------------------------------------------------------

def fts5_expression(query: Query, *, any_term: bool = False) -> str:
    groups = []
    for term in query.terms:
        options = [f'"{w}"' for w in term.exact]
        if term.prefix:
            options.append(f'"{term.prefix}"*')
        groups.append("(" + " OR ".join(options) + ")")
    return (" OR " if any_term else " AND ").join(groups)


def tsquery_expression(query: Query, *, any_term: bool = False) -> str:
    groups = []
    for term in query.terms:
        options = list(term.exact)
        if term.prefix:
            options.append(f"{term.prefix}:*")
        groups.append("(" + " | ".join(options) + ")")
    return (" | " if any_term else " & ").join(groups)


RESULT_SQL = ("SELECT id, slug, title, summary, body_text, lang, category, visibility, translation_group "
              "FROM kb_article WHERE id IN ({ids})")
# Body-only matches of a common word can be thousands (a tenth of the articles): ranking all
# of them reads every one's full text (PostgreSQL detoasts each tsvector: 14-76 ms for 1,500
# at 50,000 articles). Only the newest BODY_CANDIDATES of them are ranked; title matches are
# always all ranked.
BODY_CANDIDATES = 1000

# The SQL of a search: fixed strings with ``{}`` placeholders (run by _fetch), one per engine,
# kind, language and audience size; values are always bound parameters.
#
# Title matches and body-only matches are two queries: the title index is small, so the
# common case (a page full of title matches) never ranks the thousands of bodies that
# mention a common word. The body query runs only when there are fewer title matches than
# asked for, so all of them are in hand and "not a title match" needs no list of ids.
#
# SQLite: CROSS JOIN keeps the full-text index as the outer loop (the planner would otherwise
# walk kb_article and probe the index per row); the visibility check reads the covering index
# kb_article_visible, not the article rows (whose long texts span overflow pages); the inner
# ORDER BY f.rowid DESC walks the body index newest first and stops at BODY_CANDIDATES.
# PostgreSQL: the language and status are written as literals so the planner picks the
# partial GIN index of that language (kb_article_title_tr…: published articles only).
_SQLITE_VISIBLE = ("a.lang = {{}} AND a.status = 'published' AND (a.publish_at IS NULL OR a.publish_at <= {{}}) "
                   "AND a.visibility IN ({audience})")
_SQLITE_TITLE = """
    SELECT a.id FROM kb_title_fts t CROSS JOIN kb_article a INDEXED BY kb_article_visible ON a.id = t.rowid
    WHERE kb_title_fts MATCH {{}} AND {visible}
    ORDER BY t.rank, a.id DESC LIMIT {{}}"""
_SQLITE_BODY = """
    SELECT id FROM (
        SELECT a.id, bm25(kb_article_fts, 10.0, 1.0) AS score
        FROM kb_article_fts f CROSS JOIN kb_article a INDEXED BY kb_article_visible ON a.id = f.rowid
        WHERE kb_article_fts MATCH {{}} AND {visible}
            AND a.id NOT IN (SELECT rowid FROM kb_title_fts WHERE kb_title_fts MATCH {{}})
        ORDER BY f.rowid DESC LIMIT {candidates})
    ORDER BY score, id DESC LIMIT {{}}"""
_PG_VISIBLE = ("a.lang = '{lang}' AND a.status = 'published' AND (a.publish_at IS NULL OR a.publish_at <= {{}}) "
               "AND a.visibility IN ({audience})")
_PG_TITLE = """
    SELECT a.id FROM kb_article a, to_tsquery('simple', {{}}) q
    WHERE a.title_vector @@ q AND {visible}
    ORDER BY ts_rank(a.title_vector, q) DESC, a.id DESC LIMIT {{}}"""
_PG_BODY = """
    SELECT c.id FROM (
        SELECT a.id, a.search_vector FROM kb_article a, to_tsquery('simple', {{}}) q
        WHERE a.search_vector @@ q AND {visible} AND NOT (a.title_vector @@ q)
        ORDER BY a.id DESC LIMIT {candidates}) c, to_tsquery('simple', {{}}) q
    ORDER BY ts_rank(c.search_vector, q) DESC, c.id DESC LIMIT {{}}"""


@lru_cache(maxsize=64)
def _sql(sqlite: bool, kind: str, lang: str, audience_size: int) -> str:
    """The title or body query of a search (``lang`` is one of LANGS: a literal on PostgreSQL)."""
    audience = ", ".join("{}" for _ in range(audience_size))
    if sqlite:
        visible = _SQLITE_VISIBLE.format(audience=audience)
        template = _SQLITE_TITLE if kind == "title" else _SQLITE_BODY
    else:
        visible = _PG_VISIBLE.format(lang=lang, audience=audience)
        template = _PG_TITLE if kind == "title" else _PG_BODY
    return template.format(visible=visible, candidates=BODY_CANDIDATES)


async def _fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of a search query. On SQLite these take milliseconds, so they run on aiosqlite's
    thread (with the GIL released, while the event loop serves other requests) instead of
    ``db.fetch_all``'s reader in the loop's own thread, which is for microsecond look-ups:
    under wrk the in-loop version served 20-55% fewer uncached searches per second."""
    if db.is_sqlite():
        return list(await db.current_engine().run_querystring(QueryString(sql, *args)))
    return await db.fetch_all(sql, *args)


async def _ids(query: Query, audience: tuple[str, ...], *, now: datetime, count: int,
               any_term: bool) -> list[tuple[int, bool]]:
    """The first ``count`` matches as (id, title matched), title matches first."""
    sqlite = db.is_sqlite()
    if sqlite:
        expression = fts5_expression(query, any_term=any_term)
        visible: tuple[Any, ...] = (query.lang, now, *audience)
    else:
        expression = tsquery_expression(query, any_term=any_term)
        visible = (now, *audience)
    title_sql = _sql(sqlite, "title", query.lang, len(audience))
    titled = [(r["id"], True) for r in await _fetch(title_sql, expression, *visible, count)]
    if len(titled) >= count:
        return titled
    # Fewer title matches than asked for: these are all of them; the rest are body matches.
    body_sql = _sql(sqlite, "body", query.lang, len(audience))
    body = await _fetch(body_sql, expression, *visible, expression, count - len(titled))
    return titled + [(r["id"], False) for r in body]


async def _rows(query: Query, audience: tuple[str, ...], *, now: datetime, limit: int,
                offset: int) -> list[dict[str, Any]]:
    found = await _ids(query, audience, now=now, count=offset + limit, any_term=False)
    if not found and len(query.terms) > 1:
        found = await _ids(query, audience, now=now, count=offset + limit, any_term=True)
    page = found[offset:offset + limit]
    if not page:
        return []
    ids = [article_id for article_id, _t in page]
    rows = {r["id"]: r for r in await _fetch(RESULT_SQL.format(ids=", ".join("{}" for _ in ids)), *ids)}
    return [dict(rows[i], title_hit=title_hit) for i, title_hit in page if i in rows]


# --- the result cache -------------------------------------------------------------------------
#
# The same searches come again and again (a help center's questions follow a steep curve,
# and search-as-you-type asks for "iad", "iade" on every key), so each process keeps the
# last CACHE_SIZE results, highlighted, per (query words, language, audience, page). They
# are exact, never merely recent:
# - The database keeps a change token (kb_search_state, changed by triggers on kb_article in
#   the writer's own transaction: a new, edited, deleted, published, archived or re-scoped
#   article). Every search reads it first (one primary-key read) and a different token
#   empties the cache, so an edit made through any process is seen at once by all.
# - What an audience may read changes without a write only when a scheduled article's time
#   comes: the cache is valid from the moment it was filled until the next scheduled
#   publication, and empties when a search comes later (or earlier: a clock set back).
# - A result is stored only if the token and that window are still the ones read before its
#   queries ran, so a search that raced with an edit is answered but never kept.
# The audience is part of the key: a staff-only article cached for staff is never in a
# customer's result. Entries also expire after CACHE_TTL seconds.

CACHE_SIZE = 512
CACHE_TTL = 60.0
_STATE_SQL = "SELECT token FROM kb_search_state WHERE id = 1"
_NEXT_SQL = ("SELECT publish_at FROM kb_article WHERE status = 'published' AND publish_at > {} "
             "ORDER BY publish_at LIMIT 1")

Ticket = tuple[str, int]  # (the change token, the generation of the cache it was read for)


class _Cache:
    def __init__(self) -> None:
        self.engine: Any = None
        self.token: str | None = None
        self.since: datetime | None = None
        self.until: datetime | None = None
        self.generation = 0
        self.entries: OrderedDict[tuple[Any, ...], tuple[float, tuple[dict[str, Any], ...]]] = OrderedDict()

    def reset(self, engine: Any, token: str | None, since: datetime | None, until: datetime | None) -> None:
        self.entries.clear()
        self.engine, self.token, self.since, self.until = engine, token, since, until
        self.generation += 1


_cache = _Cache()


def clear_cache() -> None:
    """Forget every cached result of this process (the next search reads the token anew)."""
    _cache.reset(None, None, None, None)


async def _ticket(now: datetime) -> Ticket | None:
    """The token under which results may be read from and stored in the cache now, or None
    (no caching: a fresh database without the token yet, inside a transaction, or disabled)."""
    if CACHE_SIZE <= 0 or db.in_transaction():
        return None
    engine = db.current_engine()
    row = await db.fetch_one(_STATE_SQL)
    token = row["token"] if row else None
    c = _cache
    if (token is not None and c.engine is engine and c.token == token and c.since is not None
            and c.since <= now and (c.until is None or now < c.until)):
        return token, c.generation
    if token is None:
        c.reset(engine, None, None, None)
        return None
    upcoming = await db.fetch_one(_NEXT_SQL, now)
    c.reset(engine, token, now, upcoming["publish_at"] if upcoming else None)
    return token, c.generation


def _cached(key: tuple[Any, ...], ticket: Ticket | None) -> tuple[dict[str, Any], ...] | None:
    if ticket is None or ticket != (_cache.token, _cache.generation):
        return None
    entry = _cache.entries.get(key)
    if entry is None:
        return None
    if entry[0] < time.monotonic():
        del _cache.entries[key]
        return None
    _cache.entries.move_to_end(key)
    return entry[1]


def _store(key: tuple[Any, ...], ticket: Ticket | None, rows: tuple[dict[str, Any], ...]) -> None:
    if ticket is None or ticket != (_cache.token, _cache.generation):
        return  # an edit or a scheduled publication came while this search ran
    _cache.entries[key] = (time.monotonic() + CACHE_TTL, rows)
    _cache.entries.move_to_end(key)
    while len(_cache.entries) > CACHE_SIZE:
        _cache.entries.popitem(last=False)


async def _search(query: Query, audience: tuple[str, ...], *, now: datetime, limit: int, offset: int,
                  ticket: Ticket | None) -> list[dict[str, Any]]:
    if not query or not audience or query.lang not in LANGS:
        return []
    key = (query.terms, query.lang, audience, limit, offset)
    rows = _cached(key, ticket)
    if rows is None:
        # Highlighted once, here; the full text is not kept (only the snippet is shown).
        rows = tuple(highlighted(await _rows(query, audience, now=now, limit=limit, offset=offset), query))
        for row in rows:
            del row["body_text"]
        _store(key, ticket, rows)
    return [dict(row) for row in rows]


async def search(query: Query, audience: tuple[str, ...], *, now: datetime, limit: int = 10,
                 offset: int = 0) -> list[dict[str, Any]]:
    """Visible, published articles in ``query.lang`` matching the query, best first, each with
    ``title_html`` and ``snippet_html`` (the query's words marked)."""
    if not query or not audience:
        return []
    return await _search(query, audience, now=now, limit=limit, offset=offset, ticket=await _ticket(now))


async def search_either(raw: str | None, lang: str, audience: tuple[str, ...], *, now: datetime,
                        limit: int = 10, offset: int = 0) -> tuple[Query, list[dict[str, Any]]]:
    """Search in ``lang``; when that finds nothing, in the other language (a Turkish visitor
    browsing in English still finds "iade"). Returns the query that answered."""
    query = parse(raw, lang)
    if not query or not audience:
        return query, []
    ticket = await _ticket(now)
    rows = await _search(query, audience, now=now, limit=limit, offset=offset, ticket=ticket)
    if not rows and offset == 0:
        other = parse(raw, "tr" if lang == "en" else "en")
        found = await _search(other, audience, now=now, limit=limit, offset=0, ticket=ticket)
        if found:
            return other, found
    return query, rows


# --- snippets and highlighting ----------------------------------------------------------------

# Folded Turkish (and common European) letters whose NFKD form is the ASCII letter plus a
# combining mark: text made only of ASCII and these folds without unicodedata.
_FOLDS = (("ç", "c"), ("ğ", "g"), ("ö", "o"), ("ş", "s"), ("ü", "u"), ("â", "a"), ("î", "i"), ("û", "u"))


def _fold_text(text: str) -> str | None:
    """``search_fold`` of a whole text at once, position for position, or None when some
    character folds into several (or none) and the positions would no longer match."""
    # str.replace is much faster than translate. İ, I and ı all become i, like in search_fold.
    lowered = text.replace("İ", "i").replace("I", "i").lower().replace("ı", "i")
    fast = lowered
    for letter, plain in _FOLDS:
        if letter in fast:
            fast = fast.replace(letter, plain)
    if fast.isascii():  # the usual case: the same as NFKD without the marks, 4x faster
        return fast
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", lowered))
    return folded if len(folded) == len(text) else None


@lru_cache(maxsize=1024)
def _heads_pattern(heads: frozenset[str]) -> re.Pattern[str] | None:
    """Words starting with one of ``heads`` (longest first), or None for no heads."""
    if not heads:
        return None
    return re.compile("(?:" + "|".join(map(re.escape, sorted(heads, key=len, reverse=True))) + r")[^\W_]*")


class Highlighter:
    """Marks the words of a text that the query matched, as escaped markup."""

    def __init__(self, query: Query) -> None:
        self.lang = query.lang
        self.exact = {w for term in query.terms for w in term.exact}
        self.prefixes = tuple(term.prefix for term in query.terms if term.prefix)
        # A stem minus its last letter (softened in Turkish: hesap ← hesabı; y → i in English:
        # sky ← skies) starts every word it came from.
        self._heads = _heads_pattern(frozenset({w[:-1] if len(w) > 2 else w for w in self.exact}
                                               | set(self.prefixes)))

    def hits(self, parts: tuple[str, ...]) -> bool:
        for part in parts:
            if self.prefixes and part.startswith(self.prefixes):
                return True
            if self.exact.intersection(stems(part, self.lang)):
                return True
        return False

    def _marked(self, text: str, spans: list[tuple[int, int]], start: int, end: int) -> Markup:
        # Every piece of the text goes through escape(); only our own <mark> tags are added.
        out: list[str] = []
        pos = start
        for s, e in spans:
            if s < start or e > end:
                continue
            out += (escape(text[pos:s]), "<mark>", escape(text[s:e]), "</mark>")
            pos = e
        out.append(escape(text[pos:end]))
        return Markup("".join(out))  # noqa: S704 - built from escaped pieces above

    def highlight(self, text: str) -> Markup:
        """The whole text with every hit marked (titles)."""
        return self._marked(text, self._hit_spans(text), 0, len(text))

    def _hit_spans(self, text: str) -> list[tuple[int, int]]:
        """Where the query matched in ``text`` (NFC). Fast path: fold the whole text at once and
        let one regex find the words that could match (a stem, minus its possibly softened
        last letter, starts every word it came from); only those are checked."""
        heads = self._heads
        folded = _fold_text(text)
        if folded is None or not heads:  # a character folded into several: go word by word
            return [(s, e) for s, e, parts in words(text) if self.hits(parts)]
        # The regex starts with the literal heads (fast to scan for); a match that does not
        # start a word is dropped here ([^\W_] is str.isalnum).
        return [m.span() for m in heads.finditer(folded)
                if not (m.start() and folded[m.start() - 1].isalnum()) and self.hits(word_parts(m.group()))]

    def snippet(self, text: str, *, chars: int = 220, fallback: str = "") -> Markup:
        """About ``chars`` characters around the densest run of hits, marked; else the
        fallback (or the beginning of the text)."""
        text = unicodedata.normalize("NFC", text)
        spans = self._hit_spans(text)
        if not spans:
            if fallback or not text:
                return escape(fallback)
            start = 0
        else:
            best, best_count, j = 0, 0, 0
            for i in range(len(spans)):  # the window (starting at a hit) with the most hits
                j = max(j, i)
                while j + 1 < len(spans) and spans[j + 1][1] <= spans[i][0] + chars - 40:
                    j += 1
                if j - i + 1 > best_count:
                    best, best_count = i, j - i + 1
            # Start a few words before the first hit, so it reads in context.
            start = max(0, spans[best][0] - 40)
            if start:
                start = text.rfind(" ", 0, start) + 1
        end = min(len(text), start + chars)
        if end < len(text) and (cut := text.rfind(" ", start, end)) > start:
            end = cut
        body = self._marked(text, spans, start, end)
        lead = Markup("… ") if start > 0 else Markup("")
        tail = Markup(" …") if end < len(text) else Markup("")
        return lead + body + tail


def highlighted(rows: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
    """Search rows with ``title_html`` and ``snippet_html`` (the query's words marked). Rows
    from :func:`search` already have them (made when the result was found, for its query)."""
    highlighter = Highlighter(query)
    for row in rows:
        if "snippet_html" in row:
            continue
        row["title_html"] = highlighter.highlight(row["title"])
        row["snippet_html"] = highlighter.snippet(row["body_text"], fallback=row["summary"])
    return rows
