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
words, and built as escaped markup.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from portal import db
from portal.kb.tables import Article
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
    found = folded_words(text)[:MAX_WORDS]
    # The last word is still being typed unless the query ends with a space or punctuation
    # (or was cut short here).
    raw_end = unicodedata.normalize("NFC", (raw or "")[:5000])[-1:]
    typing = bool(found) and raw_end.isalnum() and len(text) < MAX_QUERY_CHARS
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


RESULT_COLUMNS = (Article.id, Article.slug, Article.title, Article.summary, Article.body_text, Article.lang,
                  Article.category, Article.visibility, Article.translation_group)


def _visible_sql(audience: tuple[str, ...], lang: str, now: datetime) -> tuple[str, list[Any]]:
    marks = ", ".join("{}" for _ in audience)
    # PostgreSQL: "lang || ''" keeps the planner from AND-ing the full-text bitmap with an
    # index on lang (half the table: measured 10-36 ms instead of 2 ms at 50,000 articles);
    # the few full-text matches are filtered on the heap instead.
    lang_sql = "a.lang = {}" if db.is_sqlite() else "(a.lang || '') = {}"
    sql = (f"{lang_sql} AND a.status = 'published' AND (a.publish_at IS NULL OR a.publish_at <= {{}}) "
           f"AND a.visibility IN ({marks})")
    return sql, [lang, now, *audience]


# Title matches and body-only matches are two queries: the title index is small, so the
# common case (a page full of title matches) never ranks the thousands of bodies that
# mention a common word. On SQLite, CROSS JOIN keeps the full-text index as the outer loop
# (the planner would otherwise walk kb_article and probe the index per row).
# (The visibility check reads the covering index kb_article_visible, not the article rows.)
_SQLITE_TITLE = """
    SELECT a.id FROM kb_title_fts t CROSS JOIN kb_article a INDEXED BY kb_article_visible ON a.id = t.rowid
    WHERE kb_title_fts MATCH {{}} AND {visible}
    ORDER BY bm25(kb_title_fts), a.id DESC LIMIT {{}}"""
_SQLITE_BODY = """
    SELECT a.id FROM kb_article_fts f CROSS JOIN kb_article a INDEXED BY kb_article_visible ON a.id = f.rowid
    WHERE kb_article_fts MATCH {{}} AND {visible} AND a.id NOT IN ({seen})
    ORDER BY bm25(kb_article_fts, 10.0, 1.0), a.id DESC LIMIT {{}}"""
_PG_TITLE = """
    SELECT a.id FROM kb_article a, to_tsquery('simple', {{}}) q
    WHERE a.title_vector @@ q AND {visible}
    ORDER BY ts_rank(a.title_vector, q) DESC, a.id DESC LIMIT {{}}"""
_PG_BODY = """
    SELECT a.id FROM kb_article a, to_tsquery('simple', {{}}) q
    WHERE a.search_vector @@ q AND {visible} AND a.id NOT IN ({seen})
    ORDER BY ts_rank(a.search_vector, q) DESC, a.id DESC LIMIT {{}}"""


async def _ids(query: Query, audience: tuple[str, ...], *, now: datetime, count: int,
               any_term: bool) -> list[tuple[int, bool]]:
    """The first ``count`` matches as (id, title matched), title matches first."""
    visible, args = _visible_sql(audience, query.lang, now)
    sqlite = db.is_sqlite()
    if sqlite:
        expression = fts5_expression(query, any_term=any_term)
    else:
        expression = tsquery_expression(query, any_term=any_term)
    title_sql = (_SQLITE_TITLE if sqlite else _PG_TITLE).format(visible=visible)
    titled = [(r["id"], True) for r in await Article.raw(title_sql, expression, *args, count)]
    if len(titled) >= count:
        return titled
    # Fewer title matches than asked for: these are all of them; the rest are body matches.
    seen = [article_id for article_id, _t in titled] or [0]
    marks = ", ".join("{}" for _ in seen)
    body_sql = (_SQLITE_BODY if sqlite else _PG_BODY).format(visible=visible, seen=marks)
    body = await Article.raw(body_sql, expression, *args, *seen, count - len(titled))
    return titled + [(r["id"], False) for r in body]


async def search(query: Query, audience: tuple[str, ...], *, now: datetime, limit: int = 10,
                 offset: int = 0) -> list[dict[str, Any]]:
    """Visible, published articles in ``query.lang`` matching the query, best first."""
    if not query or not audience:
        return []
    found = await _ids(query, audience, now=now, count=offset + limit, any_term=False)
    if not found and len(query.terms) > 1:
        found = await _ids(query, audience, now=now, count=offset + limit, any_term=True)
    page = found[offset:offset + limit]
    if not page:
        return []
    rows = {r["id"]: r for r in await Article.select(*RESULT_COLUMNS).where(
        Article.id.is_in([article_id for article_id, _t in page]))}
    return [dict(rows[i], title_hit=title_hit) for i, title_hit in page if i in rows]


async def search_either(raw: str | None, lang: str, audience: tuple[str, ...], *, now: datetime,
                        limit: int = 10, offset: int = 0) -> tuple[Query, list[dict[str, Any]]]:
    """Search in ``lang``; when that finds nothing, in the other language (a Turkish visitor
    browsing in English still finds "iade"). Returns the query that answered."""
    query = parse(raw, lang)
    rows = await search(query, audience, now=now, limit=limit, offset=offset)
    if not rows and query and offset == 0:
        other = parse(raw, "tr" if lang == "en" else "en")
        found = await search(other, audience, now=now, limit=limit)
        if found:
            return other, found
    return query, rows


# --- snippets and highlighting ----------------------------------------------------------------

class Highlighter:
    """Marks the words of a text that the query matched, as escaped markup."""

    def __init__(self, query: Query) -> None:
        self.lang = query.lang
        self.exact = {w for term in query.terms for w in term.exact}
        self.prefixes = tuple(term.prefix for term in query.terms if term.prefix)

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
        spans = [(s, e) for s, e, parts in words(text) if self.hits(parts)]
        return self._marked(text, spans, 0, len(text))

    def _hit_spans(self, text: str) -> list[tuple[int, int]]:
        """Where the query matched in ``text`` (NFC). Fast path: fold the whole text at once and
        let one regex find the words that could match (a stem, minus its possibly softened
        last letter, starts every word it came from); only those are checked."""
        # search_fold for a whole text at once (str.replace is much faster than translate):
        # İ, I and ı all become i, like in search_fold.
        lowered = text.replace("İ", "i").replace("I", "i").lower().replace("ı", "i")
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", lowered))
        heads = {w[:-1] if len(w) > 3 else w for w in self.exact} | set(self.prefixes)
        if len(folded) != len(text) or not heads:  # a character folded into several: go word by word
            return [(s, e) for s, e, parts in words(text) if self.hits(parts)]
        pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, sorted(heads, key=len, reverse=True)))
                             + r")[^\W_]*")
        return [m.span() for m in pattern.finditer(folded) if self.hits(word_parts(m.group()))]

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
    """Search rows with ``title_html`` and ``snippet_html`` (the query's words marked)."""
    highlighter = Highlighter(query)
    for row in rows:
        row["title_html"] = highlighter.highlight(row["title"])
        row["snippet_html"] = highlighter.snippet(row["body_text"], fallback=row["summary"])
    return rows
