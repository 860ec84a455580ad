"""The knowledge base demo step: enough articles in both languages, linked, searchable, and
safe to load twice."""

from portal.clock import now
from portal.kb import demo, search
from portal.kb.service import audience
from portal.kb.tables import Article, Category, RelatedArticle, SearchLog


async def test_demo_loads_twice_without_changes(running_app):
    await demo.load()
    counts = (
        await Article.count(),
        await Category.count(),
        await RelatedArticle.count(),
        await SearchLog.count(),
    )
    await demo.load()
    assert (
        await Article.count(),
        await Category.count(),
        await RelatedArticle.count(),
        await SearchLog.count(),
    ) == counts
    assert counts[0] >= 30
    for lang in ("tr", "en"):
        assert await Article.count().where((Article.lang == lang) & (Article.status == "published")) >= 15
    groups = await Article.select(Article.translation_group)
    assert all(sum(1 for g in groups if g == row) == 2 for row in groups)  # every article has its translation
    everyone = audience(customer=False, staff=False)
    found = await search.search(search.parse("iadeler ", "tr"), everyone, now=now())
    assert found and found[0]["title_hit"]
    assert "iade-ic-yonerge" not in [r["slug"] for r in found]  # the staff-only one
    english = await search.search(search.parse("refunds ", "en"), everyone, now=now())
    assert english
