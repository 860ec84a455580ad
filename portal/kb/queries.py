"""Read side of the knowledge base. Every reader-facing query is scoped by the visitor's
``audience`` (see :func:`portal.kb.service.audience`) and ``now``: a staff-only article, a
draft or a scheduled one is simply not in the result, so no page can leak it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from piccolo.columns.combination import And, Where

from portal.i18n import sort_key
from portal.kb.tables import Article, ArticleRevision, Category, RelatedArticle, SearchLog

Row = dict[str, Any]
Audience = tuple[str, ...]

LIST_COLUMNS = (Article.id, Article.slug, Article.title, Article.summary, Article.lang, Article.category,
                Article.visibility, Article.views, Article.publish_at, Article.updated_at)


def visible(audience: Audience, lang: str | None, now: datetime) -> And | Where:
    condition = ((Article.status == "published") & Article.visibility.is_in(list(audience))
                 & (Article.publish_at.is_null() | (Article.publish_at <= now)))
    if lang is not None:
        condition = condition & (Article.lang == lang)
    return condition


def category_name(category: dict[str, Any] | None, lang: str) -> str:
    if not category:
        return ""
    return category["name_en"] if lang == "en" else category["name_tr"]


async def categories() -> list[Row]:
    return await Category.select().order_by(Category.position).order_by(Category.id)


async def category_tree(audience: Audience, lang: str, now: datetime) -> list[Row]:
    """Top categories with their subcategories, each with its count of readable articles;
    categories with nothing to read are left out."""
    rows = await categories()
    counts: dict[int, int] = {}
    for row in await Article.select(Article.category).where(visible(audience, lang, now)
                                                            & Article.category.is_not_null()):
        counts[row["category"]] = counts.get(row["category"], 0) + 1
    tops = [dict(r, children=[], count=counts.get(r["id"], 0)) for r in rows if r["parent"] is None]
    by_id = {t["id"]: t for t in tops}
    for row in rows:
        if row["parent"] in by_id and counts.get(row["id"]):
            by_id[row["parent"]]["children"].append(dict(row, count=counts[row["id"]]))
    for top in tops:
        top["total"] = top["count"] + sum(c["count"] for c in top["children"])
    return [t for t in tops if t["total"]]


async def category_by_slug(slug: str) -> Row | None:
    return await Category.select().where(Category.slug == slug).first()


async def category_by_id(category_id: int | None) -> Row | None:
    if category_id is None:
        return None
    return await Category.select().where(Category.id == category_id).first()


async def subcategories(category_id: int) -> list[Row]:
    return await Category.select().where(Category.parent == category_id).order_by(Category.position)


async def articles_in(category_ids: list[int], audience: Audience, lang: str, now: datetime,
                      *, limit: int = 200) -> list[Row]:
    if not category_ids:
        return []
    rows = await Article.select(*LIST_COLUMNS).where(
        visible(audience, lang, now) & Article.category.is_in(category_ids)
    ).order_by(Article.title).limit(limit)
    # In the reader's alphabetical order (Turkish: Cüzdan, Çanta, Işık, İade, Ozon, Ödeme), the
    # same on both engines, whatever the PostgreSQL database's collation.
    return sorted(rows, key=lambda row: sort_key(row["title"], lang))


async def popular(audience: Audience, lang: str, now: datetime, *, limit: int = 8) -> list[Row]:
    return await Article.select(*LIST_COLUMNS).where(visible(audience, lang, now)).order_by(
        Article.views, ascending=False).order_by(Article.id, ascending=False).limit(limit)


async def article_for_reader(slug: str, audience: Audience, lang: str,
                             now: datetime) -> Row | None:
    """The readable article with this slug, in the visitor's language when both have it."""
    rows = await Article.select().where(visible(audience, None, now) & (Article.slug == slug))
    if not rows:
        return None
    row = next((r for r in rows if r["lang"] == lang), rows[0])
    row["toc"] = json.loads(row["toc"] or "[]") if isinstance(row["toc"], str) else (row["toc"] or [])
    return row


async def article_ids_visible(ids: list[int], audience: Audience, now: datetime) -> list[int]:
    if not ids:
        return []
    query = Article.select(Article.id).where(visible(audience, None, now) & Article.id.is_in(ids))
    return await query.output(as_list=True)


async def exists_for_customers(slug: str, now: datetime) -> bool:
    """Whether a log-in would make this slug readable (to send a guest to the log-in page)."""
    return await Article.exists().where(visible(("customers",), None, now) & (Article.slug == slug))


async def translations(article: dict[str, Any], audience: Audience, now: datetime) -> list[Row]:
    """The other language versions of an article that this visitor may read."""
    return await Article.select(Article.slug, Article.lang, Article.title).where(
        visible(audience, None, now) & (Article.translation_group == article["translation_group"])
        & (Article.id != article["id"]))


async def related(article_id: int, audience: Audience, lang: str, now: datetime) -> list[Row]:
    ids = await RelatedArticle.select(RelatedArticle.related).where(
        RelatedArticle.article == article_id).order_by(RelatedArticle.position).output(as_list=True)
    if not ids:
        return []
    rows = await Article.select(*LIST_COLUMNS).where(visible(audience, lang, now) & Article.id.is_in(ids))
    order = {article_id: i for i, article_id in enumerate(ids)}
    return sorted(rows, key=lambda r: order[r["id"]])


async def sitemap(now: datetime) -> list[Row]:
    """Published articles that anybody may read (never customers-only or staff-only)."""
    query = Article.select(Article.slug, Article.lang, Article.updated_at, Article.translation_group)
    return await query.where(visible(("everyone",), None, now)).order_by(Article.id)


# --- staff ---------------------------------------------------------------------------------------

STAFF_PAGE = 50


def state_of(row: dict[str, Any], now: datetime) -> str:
    """draft, scheduled, published or archived, as staff see it."""
    if row["status"] == "published" and row.get("publish_at") and row["publish_at"] > now:
        return "scheduled"
    return row["status"]


async def staff_list(*, status: str = "", lang: str = "", category: int | None = None, text: str = "",
                     page: int = 1, now: datetime) -> tuple[list[dict[str, Any]], bool]:
    query = Article.select(Article.id, Article.slug, Article.title, Article.lang, Article.status,
                           Article.visibility, Article.publish_at, Article.updated_at, Article.views,
                           Article.helpful_yes, Article.helpful_no, Article.suggest_clicks,
                           Article.suggest_answered, Article.category.name_en.as_alias("category_en"),
                           Article.category.name_tr.as_alias("category_tr"))
    if status == "scheduled":
        query = query.where((Article.status == "published") & (Article.publish_at > now))
    elif status == "published":
        query = query.where((Article.status == "published")
                            & (Article.publish_at.is_null() | (Article.publish_at <= now)))
    elif status in ("draft", "archived"):
        query = query.where(Article.status == status)
    if lang in ("tr", "en"):
        query = query.where(Article.lang == lang)
    if category is not None:
        query = query.where(Article.category == category)
    if text:
        pattern = "%" + text.replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(Article.title.ilike(pattern) | Article.slug.ilike(pattern))
    query = query.order_by(Article.updated_at, ascending=False).order_by(Article.id, ascending=False)
    rows = await query.limit(STAFF_PAGE + 1).offset((max(page, 1) - 1) * STAFF_PAGE)
    for row in rows:
        row["state"] = state_of(row, now)
    return rows[:STAFF_PAGE], len(rows) > STAFF_PAGE


async def article_by_id(article_id: int) -> Row | None:
    return await Article.select().where(Article.id == article_id).first()


async def other_versions(article: dict[str, Any]) -> list[Row]:
    return await Article.select(Article.id, Article.lang, Article.title, Article.slug, Article.status).where(
        (Article.translation_group == article["translation_group"]) & (Article.id != article["id"]))


async def related_ids(article_id: int) -> list[Row]:
    return await RelatedArticle.select(RelatedArticle.related.id.as_alias("id"),
                                       RelatedArticle.related.slug.as_alias("slug")).where(
        RelatedArticle.article == article_id).order_by(RelatedArticle.position)


async def article_ids_by_slug(slugs: list[str], lang: str) -> list[int]:
    if not slugs:
        return []
    rows = await Article.select(Article.id, Article.slug).where(Article.slug.is_in(slugs)
                                                                & (Article.lang == lang))
    by_slug = {r["slug"]: r["id"] for r in rows}
    return [by_slug[s] for s in slugs if s in by_slug]


async def revisions(article_id: int) -> list[Row]:
    return await ArticleRevision.select(
        ArticleRevision.id, ArticleRevision.title, ArticleRevision.note, ArticleRevision.created_at,
        ArticleRevision.author.name.as_alias("author_name"),
    ).where(ArticleRevision.article == article_id).order_by(ArticleRevision.id, ascending=False)


async def revision(article_id: int, revision_id: int) -> Row | None:
    return await ArticleRevision.select(
        *ArticleRevision.all_columns(), ArticleRevision.author.name.as_alias("author_name")
    ).where((ArticleRevision.id == revision_id) & (ArticleRevision.article == article_id)).first()


async def previous_revision(article_id: int, revision_id: int) -> Row | None:
    return await ArticleRevision.select().where(
        (ArticleRevision.article == article_id) & (ArticleRevision.id < revision_id)
    ).order_by(ArticleRevision.id, ascending=False).first()


async def search_report(*, now: datetime, days: int = 30, limit: int = 30) -> dict[str, list[dict[str, Any]]]:
    """The most frequent searches and the searches that found nothing, over ``days``."""
    from portal.kb.service import flush_search_log

    await flush_search_log()
    since = now - timedelta(days=days)
    frequent = await SearchLog.raw(
        "SELECT query, lang, COUNT(*) AS searches, MAX(results) AS results FROM kb_search_log "
        "WHERE created_at >= {} GROUP BY query, lang ORDER BY searches DESC, query LIMIT {}", since, limit)
    empty = await SearchLog.raw(
        "SELECT query, lang, COUNT(*) AS searches, MAX(created_at) AS last_at FROM kb_search_log "
        "WHERE created_at >= {} AND results = 0 GROUP BY query, lang ORDER BY searches DESC, query LIMIT {}",
        since, limit)
    return {"frequent": frequent, "empty": empty}
