"""The knowledge base's `portal demo` step: topics, articles in both languages (published,
linked as translations, with related links), some views and votes, and a few logged
searches for the staff search report. Upserts by slug; an article staff already edited is
left as it is."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from portal.clock import now
from portal.kb import service
from portal.kb.demo_data import ARTICLES, RELATED, TOPICS
from portal.kb.service import ArticleInput, CategoryInput
from portal.kb.tables import Article, Category, SearchLog

SEARCHES = [  # query, lang, results, times
    ("iade", "tr", 4, 23), ("kargo takip", "tr", 2, 17), ("siparis iptal", "tr", 1, 11),
    ("fatura", "tr", 1, 9), ("taksit", "tr", 1, 6), ("return", "en", 2, 8), ("refund", "en", 2, 5),
    ("hediye paketi", "tr", 0, 7),
    ("fatura iptali", "tr", 0, 4), ("gift wrap", "en", 0, 3), ("magaza adresi", "tr", 0, 3),
]


def _number(slug: str, modulo: int) -> int:
    """A stable pseudo-random number per article, so a reload changes nothing."""
    return int(hashlib.sha256(slug.encode()).hexdigest()[:8], 16) % modulo


async def _topics() -> dict[str, int]:
    ids: dict[str, int] = {}
    for position, (slug, name_tr, name_en, desc_tr, desc_en, parent) in enumerate(TOPICS):
        existing = await Category.select(Category.id).where(Category.slug == slug).first()
        if existing:
            ids[slug] = existing["id"]
            continue
        ids[slug] = await service.save_category(None, CategoryInput(
            slug=slug, name_tr=name_tr, name_en=name_en, description_tr=desc_tr, description_en=desc_en,
            parent=ids.get(parent) if parent else None, position=position), now=now())
    return ids


async def _article(lang: str, slug: str, content: tuple[str, str, str], topic: int, visibility: str,
                   group: str | None) -> dict[str, Any]:
    existing = await Article.select(Article.id, Article.translation_group).where(
        (Article.lang == lang) & (Article.slug == slug)).first()
    if existing:
        return existing
    title, summary, body = content
    t = now() - timedelta(days=30 + _number(slug, 60))
    article_id = await service.save_article(None, ArticleInput(
        lang=lang, title=title, slug=slug, summary=summary, body_markdown=body, category=topic,
        visibility=visibility, translation_group=group), author=None, now=t)
    await service.set_status(article_id, "published", now=t)
    views = 40 + _number(slug, 900) // (2 if lang == "en" else 1)
    await Article.update({Article.views: views, Article.helpful_yes: views // 9,
                          Article.helpful_no: views // 40}).where(Article.id == article_id)
    return await Article.select(Article.id, Article.translation_group).where(Article.id == article_id).first()


async def load(settings: Any = None, passwords: Any = None) -> None:
    topics = await _topics()
    ids: dict[str, int] = {}
    for tr_slug, en_slug, topic, visibility, tr, en in ARTICLES:
        tr_row = await _article("tr", tr_slug, tr, topics[topic], visibility, None)
        en_row = await _article("en", en_slug, en, topics[topic], visibility, tr_row["translation_group"])
        ids[tr_slug], ids[en_slug] = tr_row["id"], en_row["id"]
    english = {tr_slug: en_slug for tr_slug, en_slug, *_rest in ARTICLES}
    for slug, related in RELATED.items():
        for source, targets in ((slug, related), (english[slug], [english[r] for r in related])):
            await service.set_related(ids[source], tuple(ids[r] for r in targets))
    if not await SearchLog.count():
        t = now()
        rows = [SearchLog(query=q, lang=lang, results=results, created_at=t - timedelta(hours=i * 7 + n))
                for n, (q, lang, results, times) in enumerate(SEARCHES) for i in range(times)]
        await SearchLog.insert(*rows)
