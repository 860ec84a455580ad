"""Knowledge-base rules: saving articles (with a revision each time), publishing, scheduling,
archiving, restoring a revision, votes, view and suggestion counters, categories, the
search log. No requests here; every function that records a time takes ``now``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal import db
from portal.kb import markdown
from portal.kb.tables import (
    LANGS,
    STATUSES,
    VISIBILITIES,
    Article,
    ArticleImage,
    ArticleRevision,
    ArticleVote,
    Category,
    RelatedArticle,
    SearchLog,
)
from portal.kb.text import index_text
from portal.tags import service as tags
from portal.tickets.files import Storage

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# /kb/{category} shares its first segment with these pages.
RESERVED_SLUGS = {"search", "suggest", "articles", "feedback", "sitemap"}
MAX_BODY = 200_000
MAX_COMMENT = 1000


class KbError(Exception):
    """A rule said no; ``field`` names the form field it is about, ``code`` what it was."""

    def __init__(self, code: str, field: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class ArticleInput:
    lang: str
    title: str
    slug: str
    summary: str = ""
    body_markdown: str = ""
    category: int | None = None
    visibility: str = "everyone"
    translation_group: str | None = None  # the other language's group, to link the two
    related: tuple[int, ...] = ()
    tags: tuple[str, ...] | None = None  # None: leave the tags as they are


def audience(*, customer: bool, staff: bool) -> tuple[str, ...]:
    """The visibilities a visitor may read: staff everything, a logged-in customer
    ``everyone`` and ``customers``, anybody else ``everyone``."""
    if staff:
        return VISIBILITIES
    if customer:
        return ("everyone", "customers")
    return ("everyone",)


def search_fields(title: str, text: str, lang: str) -> dict[Any, str]:
    return {Article.search_title: index_text(title, lang), Article.search_body: index_text(text, lang)}


def _check(data: ArticleInput) -> None:
    if data.lang not in LANGS:
        raise KbError("lang", "lang")
    if data.visibility not in VISIBILITIES:
        raise KbError("visibility", "visibility")
    if not SLUG.match(data.slug) or len(data.slug) > 120:
        raise KbError("slug_format", "slug")
    if len(data.body_markdown) > MAX_BODY:
        raise KbError("too_long", "body_markdown")


async def _slug_taken(lang: str, slug: str, article_id: int | None) -> bool:
    query = Article.exists().where((Article.lang == lang) & (Article.slug == slug))
    if article_id is not None:
        query = query.where(Article.id != article_id)
    return await query


async def _group_for(data: ArticleInput, article_id: int | None) -> str:
    """Link to the other language's article; a group holds one article per language."""
    group = data.translation_group
    if not group:
        if article_id is not None:
            current = await Article.select(Article.translation_group).where(Article.id == article_id).first()
            if current:
                return current["translation_group"]
        return uuid.uuid4().hex
    query = Article.exists().where((Article.translation_group == group) & (Article.lang == data.lang))
    if article_id is not None:
        query = query.where(Article.id != article_id)
    if await query:
        raise KbError("translation_taken", "translation_of")
    return group


async def save_article(article_id: int | None, data: ArticleInput, *, author: int | None, now: datetime,
                       note: str = "") -> int:
    """Create or update an article, render its body, refresh its search text and keep a
    revision. Status changes are separate (:func:`set_status`)."""
    _check(data)
    rendered = markdown.render(data.body_markdown)
    async with db.transaction():
        if await _slug_taken(data.lang, data.slug, article_id):
            raise KbError("slug_taken", "slug")
        if data.category is not None and not await Category.exists().where(Category.id == data.category):
            raise KbError("category", "category")
        group = await _group_for(data, article_id)
        values = {
            Article.lang: data.lang, Article.slug: data.slug, Article.title: data.title,
            Article.summary: data.summary, Article.body_markdown: data.body_markdown,
            Article.body_html: rendered.html, Article.body_text: rendered.text,
            Article.toc: json.dumps(rendered.toc, ensure_ascii=False), Article.category: data.category,
            Article.visibility: data.visibility, Article.translation_group: group, Article.updated_at: now,
            **search_fields(data.title, rendered.text, data.lang),
        }
        if article_id is None:
            row = Article(**{col._meta.name: value for col, value in values.items()}, author=author,
                          created_at=now, status="draft")
            await row.save()
            article_id = row.id
        else:
            updated = await Article.update(values).where(Article.id == article_id).returning(Article.id)
            if not updated:
                raise KbError("not_found")
        await ArticleRevision.insert(ArticleRevision(
            article=article_id, title=data.title, summary=data.summary, body_markdown=data.body_markdown,
            author=author, note=note[:200], created_at=now))
        await _set_related(article_id, data.related)
        if data.tags is not None:
            await tags.replace("article", article_id, list(data.tags), by=author, now=now)
    return article_id


async def set_related(article_id: int, related: tuple[int, ...]) -> None:
    """Make ``related`` (article ids, in order) the article's related articles."""
    async with db.transaction():
        await _set_related(article_id, related)


async def _set_related(article_id: int, related: tuple[int, ...]) -> None:
    await RelatedArticle.delete().where(RelatedArticle.article == article_id)
    ids = [r for r in dict.fromkeys(related) if r != article_id][:10]
    if ids:
        existing = set(await Article.select(Article.id).where(Article.id.is_in(ids)).output(as_list=True))
        rows = [RelatedArticle(article=article_id, related=r, position=i)
                for i, r in enumerate(ids) if r in existing]
        if rows:
            await RelatedArticle.insert(*rows)


async def set_status(article_id: int, status: str, *, now: datetime,
                     publish_at: datetime | None = None) -> None:
    """``published`` now or at ``publish_at`` (scheduled), ``draft`` or ``archived``."""
    if status not in STATUSES:
        raise KbError("status", "status")
    when = (publish_at or now) if status == "published" else None
    async with db.transaction():
        current = await Article.select(Article.status, Article.publish_at).where(
            Article.id == article_id).first()
        if current is None:
            raise KbError("not_found")
        if status == "published" and current["status"] == "published" and publish_at is None \
                and current["publish_at"] is not None and current["publish_at"] <= now:
            when = current["publish_at"]  # publishing again keeps the original date
        await Article.update({Article.status: status, Article.publish_at: when,
                              Article.updated_at: now}).where(Article.id == article_id)


async def restore_revision(article_id: int, revision_id: int, *, author: int | None, now: datetime) -> int:
    """Put an old revision's title, summary and body back (as a new revision)."""
    revision = await ArticleRevision.select().where(
        (ArticleRevision.id == revision_id) & (ArticleRevision.article == article_id)).first()
    article = await Article.select().where(Article.id == article_id).first()
    if revision is None or article is None:
        raise KbError("not_found")
    related = tuple(await RelatedArticle.select(RelatedArticle.related).where(
        RelatedArticle.article == article_id).order_by(RelatedArticle.position).output(as_list=True))
    data = ArticleInput(lang=article["lang"], title=revision["title"], slug=article["slug"],
                        summary=revision["summary"], body_markdown=revision["body_markdown"],
                        category=article["category"], visibility=article["visibility"],
                        translation_group=article["translation_group"], related=related)
    return await save_article(article_id, data, author=author, now=now, note=f"restore:{revision_id}")


async def delete_article(article_id: int, *, storage: Storage | None = None) -> None:
    """Delete the article (its revisions, votes and images go with it, by cascade); the image
    files go too when their ``storage`` is given."""
    async with db.transaction():
        keys = await ArticleImage.select(ArticleImage.storage_key).where(
            ArticleImage.article == article_id).output(as_list=True)
        await Article.delete().where(Article.id == article_id)
    for key in keys if storage is not None else []:
        storage.delete(key)


# --- readers' actions ---------------------------------------------------------------------------

async def record_view(article_id: int, *, from_suggestion: bool = False) -> None:
    """One more view (and a suggestion click when the reader came from one)."""
    values: dict[Any, Any] = {Article.views: Article.views + 1}
    if from_suggestion:
        values[Article.suggest_clicks] = Article.suggest_clicks + 1
    async with db.transaction():
        await Article.update(values).where(Article.id == article_id)


async def record_answered(article_id: int) -> None:
    async with db.transaction():
        await Article.update({Article.suggest_answered: Article.suggest_answered + 1}).where(
            Article.id == article_id)


async def vote(article_id: int, visitor_hash: str, *, helpful: bool, comment: str, now: datetime) -> str:
    """Record a "was this helpful?" answer: ``new``, or ``changed`` when this visitor had
    answered before (their earlier answer is replaced, never counted twice)."""
    comment = comment.strip()[:MAX_COMMENT]
    async with db.transaction():
        previous = await ArticleVote.select(ArticleVote.id, ArticleVote.helpful).where(
            (ArticleVote.article == article_id) & (ArticleVote.visitor_hash == visitor_hash)).first()
        if previous is None:
            await ArticleVote.insert(ArticleVote(article=article_id, visitor_hash=visitor_hash,
                                                 helpful=helpful, comment=comment, created_at=now))
            column = Article.helpful_yes if helpful else Article.helpful_no
            await Article.update({column: column + 1}).where(Article.id == article_id)
            return "new"
        await ArticleVote.update({ArticleVote.helpful: helpful, ArticleVote.comment: comment,
                                  ArticleVote.created_at: now}).where(ArticleVote.id == previous["id"])
        if bool(previous["helpful"]) != helpful:
            up, down = (Article.helpful_yes, Article.helpful_no) if helpful else (Article.helpful_no,
                                                                                  Article.helpful_yes)
            await Article.update({up: up + 1, down: down - 1}).where(Article.id == article_id)
        return "changed"


# Searches are written in batches: one write per search would make every search a writer,
# and on SQLite writers queue for one lock. A batch goes out when it is full or a few
# seconds after its first search, whichever comes first (the search report flushes too).
LOG_BATCH = 50
LOG_DELAY = 5.0
_pending: list[tuple[Any, SearchLog]] = []  # (the engine it belongs to, the row)
_flush_task: asyncio.Task | None = None


async def log_search(query: str, lang: str, results: int, *, now: datetime) -> None:
    global _flush_task
    if not query:
        return
    engine = db.current_engine()
    if _pending and _pending[0][0] is not engine:  # the database changed (a restart, a test)
        _pending.clear()
    _pending.append((engine, SearchLog(query=query[:200], lang=lang, results=results, created_at=now)))
    if len(_pending) >= LOG_BATCH:
        await flush_search_log()
    elif _flush_task is None or _flush_task.done() or _flush_task.get_loop() is not asyncio.get_running_loop():
        _flush_task = asyncio.get_running_loop().create_task(_flush_later())


async def _flush_later() -> None:
    await asyncio.sleep(LOG_DELAY)
    with contextlib.suppress(Exception):  # the log is a report, never worth an error page
        await flush_search_log()


async def flush_search_log() -> None:
    engine = db.current_engine()
    taken = _pending[:]
    del _pending[: len(taken)]
    rows = [row for owner, row in taken if owner is engine]  # (rows of a closed engine are dropped)
    if rows:
        async with db.transaction():
            await SearchLog.insert(*rows)


# --- categories ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryInput:
    slug: str
    name_tr: str
    name_en: str
    description_tr: str = ""
    description_en: str = ""
    parent: int | None = None
    position: int = 0


async def save_category(category_id: int | None, data: CategoryInput, *, now: datetime) -> int:
    if not SLUG.match(data.slug) or len(data.slug) > 80 or data.slug in RESERVED_SLUGS:
        raise KbError("slug_format", "slug")
    async with db.transaction():
        taken = Category.exists().where(Category.slug == data.slug)
        if category_id is not None:
            taken = taken.where(Category.id != category_id)
        if await taken:
            raise KbError("slug_taken", "slug")
        if data.parent is not None:
            parent = await Category.select(Category.id, Category.parent).where(
                Category.id == data.parent).first()
            # Two levels: the parent must be a top category, and not this one.
            if parent is None or parent["parent"] is not None or parent["id"] == category_id:
                raise KbError("parent", "parent")
            if category_id is not None and await Category.exists().where(Category.parent == category_id):
                raise KbError("parent", "parent")
        values = {Category.slug: data.slug, Category.name_tr: data.name_tr, Category.name_en: data.name_en,
                  Category.description_tr: data.description_tr, Category.description_en: data.description_en,
                  Category.parent: data.parent, Category.position: data.position}
        if category_id is None:
            row = Category(**{c._meta.name: v for c, v in values.items()}, created_at=now)
            await row.save()
            return row.id
        await Category.update(values).where(Category.id == category_id)
        return category_id
