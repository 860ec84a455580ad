"""/staff/kb: writing with preview, roles (agents write drafts, leads publish), scheduling,
revisions with diff and restore, topics, tags and the search report."""

from __future__ import annotations

from datetime import timedelta

from portal.clock import now
from portal.kb import service
from portal.kb.tables import Article, ArticleRevision, Category
from portal.tags import service as tags
from tests.conftest import login, staff_login

NEW = {
    "title": "Kargo takibi",
    "slug": "",
    "lang": "tr",
    "visibility": "everyone",
    "category": "",
    "summary": "Kargonuz nerede?",
    "body_markdown": "## Adımlar\n\nTakip numarası ile.\n\n<script>alert(1)</script>",
    "related": "",
    "tags": "kargo, Takip",
}


def in_turkish(message: str) -> str:
    """What the page says for an English message id, for a visitor reading Turkish (the default)."""
    from portal.i18n import gettext, use_locale

    with use_locale("tr"):
        return gettext(message)


async def _create(client, **changes) -> int:
    response = await client.post_form("/staff/kb/new", {**NEW, **changes})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def test_staff_kb_needs_a_staff_log_in(client, alice):
    response = await client.get("/staff/kb")
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")
    await login(client, alice)
    assert (await client.get("/staff/kb")).status_code == 303
    assert (await client.post_form("/staff/kb/preview", {"body_markdown": "x"})).status_code in (303, 401)


async def test_agent_writes_a_draft_with_tags_and_a_revision(client, carol):
    await staff_login(client, carol)
    assert (await client.get("/staff/kb/new")).status_code == 200
    article_id = await _create(client)
    row = await Article.select().where(Article.id == article_id).first()
    assert row["slug"] == "kargo-takibi" and row["status"] == "draft" and row["author"] == carol.id
    assert "<script" not in row["body_html"] and 'id="kb-adimlar"' in row["body_html"]
    assert await ArticleRevision.count().where(ArticleRevision.article == article_id) == 1
    assert (await tags.of("article", [article_id]))[article_id] == ["kargo", "Takip"]
    page = await client.get(f"/staff/kb/{article_id}")
    assert page.status_code == 200 and "Kargo takibi" in page.text
    listing = await client.get("/staff/kb", params={"status": "draft"})
    assert f'href="/staff/kb/{article_id}"' in listing.text
    fragment = await client.get("/staff/kb", params={"q": "nothing-like-it"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="kb-articles"' in fragment.text


async def test_invalid_article_forms_answer_422(client, carol):
    await staff_login(client, carol)
    response = await client.post_form("/staff/kb/new", {**NEW, "title": ""})
    assert response.status_code == 422 and 'aria-invalid="true"' in response.text
    assert (await client.post_form("/staff/kb/new", {**NEW, "slug": "Büyük Harf"})).status_code == 422
    assert (await client.post_form("/staff/kb/new", {**NEW, "visibility": "world"})).status_code == 422
    await _create(client)
    taken = await client.post_form("/staff/kb/new", NEW)
    assert taken.status_code == 422 and 'aria-invalid="true"' in taken.text
    await _create(client, lang="en")  # the same address in the other language is fine
    assert await Article.count() == 2


async def test_preview_is_sanitised(client, carol):
    await staff_login(client, carol)
    response = await client.post_form(
        "/staff/kb/preview",
        {
            "body_markdown": "# Hi\n\n<img src=x onerror=alert(1)> [x](javascript:alert(1)) "
            "<svg onload=alert(1)>"
        },
        htmx=True,
    )
    assert response.status_code == 200
    assert "<h2" in response.text and "onerror" not in response.text and "<svg" not in response.text
    assert 'href="javascript' not in response.text


async def test_only_a_lead_publishes_and_edits_live_articles(client, other_client, carol, erin):
    await staff_login(client, carol)
    article_id = await _create(client)
    assert (
        await client.post_form(f"/staff/kb/{article_id}/status", {"action": "publish"})
    ).status_code == 403
    await staff_login(other_client, erin)
    assert (
        await other_client.post_form(f"/staff/kb/{article_id}/status", {"action": "publish"})
    ).status_code == 303
    public = await other_client.get("/kb/articles/kargo-takibi")
    assert public.status_code == 200
    assert (await client.post_form(f"/staff/kb/{article_id}", {**NEW, "title": "Değişti"})).status_code == 403
    assert (
        await other_client.post_form(f"/staff/kb/{article_id}", {**NEW, "title": "Değişti"})
    ).status_code == 303
    assert (await Article.select(Article.title).where(Article.id == article_id).first())["title"] == "Değişti"
    assert (
        await other_client.post_form(f"/staff/kb/{article_id}/status", {"action": "archive"})
    ).status_code == 303
    assert (await other_client.get("/kb/articles/kargo-takibi")).status_code == 404


async def test_scheduling(client, erin):
    await staff_login(client, erin)
    article_id = await _create(client)
    past = await client.post_form(
        f"/staff/kb/{article_id}/status", {"action": "schedule", "publish_at": "2001-01-01T10:00"}
    )
    assert past.status_code == 422 and 'aria-invalid="true"' in past.text
    later = (now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = await client.post_form(
        f"/staff/kb/{article_id}/status", {"action": "schedule", "publish_at": later}
    )
    assert response.status_code == 303
    row = await Article.select(Article.status, Article.publish_at).where(Article.id == article_id).first()
    assert row["status"] == "published" and row["publish_at"] > now() + timedelta(days=2)
    assert (await client.get("/kb/articles/kargo-takibi")).status_code == 404  # not yet, for anybody
    goes_live = in_turkish("Goes live %(when)s").split("%(when)s")[0].strip()
    assert goes_live in (await client.get(f"/staff/kb/{article_id}")).text
    assert "kargo-takibi" not in (await client.get("/sitemap.xml")).text


async def test_revisions_diff_and_restore(client, other_client, carol, erin):
    await staff_login(client, erin)
    article_id = await _create(client, body_markdown="ilk satır\nikinci satır")
    await client.post_form(f"/staff/kb/{article_id}", {**NEW, "body_markdown": "ilk satır\nyeni satır"})
    revisions = (
        await ArticleRevision.select()
        .where(ArticleRevision.article == article_id)
        .order_by(ArticleRevision.id)
    )
    assert len(revisions) == 2
    listing = await client.get(f"/staff/kb/{article_id}/revisions")
    assert listing.status_code == 200 and f"/revisions/{revisions[0]['id']}" in listing.text
    diff = await client.get(f"/staff/kb/{article_id}/revisions/{revisions[1]['id']}")
    assert diff.status_code == 200
    assert "<del>" in diff.text and "ikinci satır</del>" in diff.text and "yeni satır</ins>" in diff.text
    await staff_login(other_client, carol)
    restore = f"/staff/kb/{article_id}/revisions/{revisions[0]['id']}/restore"
    assert (await other_client.post_form(restore, {})).status_code == 403
    assert (await client.post_form(restore, {})).status_code == 303
    row = (
        await Article.select(Article.body_markdown, Article.search_body)
        .where(Article.id == article_id)
        .first()
    )
    assert row["body_markdown"] == "ilk satır\nikinci satır" and "ikinci" in row["search_body"]
    assert await ArticleRevision.count().where(ArticleRevision.article == article_id) == 3
    assert (await client.post_form(f"/staff/kb/{article_id}/revisions/999999/restore", {})).status_code == 404


async def test_translation_links_both_versions(client, erin):
    await staff_login(client, erin)
    tr_id = await _create(client)
    form = await client.get("/staff/kb/new", params={"translation_of": tr_id})
    group = (await Article.select(Article.translation_group).where(Article.id == tr_id).first())[
        "translation_group"
    ]
    assert f'value="{group}"' in form.text and 'value="en" selected' in form.text
    en_id = await _create(
        client, lang="en", title="Tracking a parcel", slug="tracking", translation_group=group
    )
    again = await client.post_form(
        "/staff/kb/new", {**NEW, "lang": "en", "slug": "other", "translation_group": group}
    )
    assert again.status_code == 422  # one English version per group
    for article_id in (tr_id, en_id):
        await service.set_status(article_id, "published", now=now())
    page = await client.get("/kb/articles/kargo-takibi")
    assert 'hreflang="en" href="http://portal.test/kb/articles/tracking?lang=en"' in page.text


async def test_topics_are_for_leads_and_two_levels_deep(client, other_client, carol, erin):
    await staff_login(client, erin)
    data = {"slug": "kargo", "name_tr": "Kargo", "name_en": "Shipping", "parent": "", "position": "1"}
    assert (await client.post_form("/staff/kb/categories", data)).status_code == 303
    top = await Category.select().where(Category.slug == "kargo").first()
    child = {**data, "slug": "kargo-takip", "parent": str(top["id"])}
    assert (await client.post_form("/staff/kb/categories", child)).status_code == 303
    sub = await Category.select().where(Category.slug == "kargo-takip").first()
    third = await client.post_form(
        "/staff/kb/categories", {**data, "slug": "derin", "parent": str(sub["id"])}
    )
    assert third.status_code == 422
    assert (await client.post_form("/staff/kb/categories", {**data, "slug": "search"})).status_code == 422
    assert (await client.post_form("/staff/kb/categories", data)).status_code == 422  # taken
    edit = await client.get("/staff/kb/categories", params={"edit": top["id"]})
    assert f'action="/staff/kb/categories/{top["id"]}"' in edit.text
    renamed = await client.post_form(f"/staff/kb/categories/{top['id']}", {**data, "name_en": "Delivery"})
    assert renamed.status_code == 303
    assert (await Category.select(Category.name_en).where(Category.id == top["id"]).first())[
        "name_en"
    ] == "Delivery"
    await staff_login(other_client, carol)
    assert (await other_client.get("/staff/kb/categories")).status_code == 200
    assert (await other_client.post_form("/staff/kb/categories", {**data, "slug": "x"})).status_code == 403


async def test_search_report_shows_what_to_write_next(client, carol):
    await client.get("/kb/search", params={"q": "Fatura İptali"})
    await client.get("/kb/search", params={"q": "fatura iptali"})
    await client.get("/api/v1/kb/search", params={"q": "FATURA İPTALİ", "lang": "tr"})
    await staff_login(client, carol)
    report = await client.get("/staff/kb/report")
    assert report.status_code == 200
    assert "fatura iptali" in report.text and '<td class="num">3</td>' in report.text
