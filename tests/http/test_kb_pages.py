"""The public knowledge base over HTTP: pages, search, votes, suggestions, sitemap and API,
with the visibility rules (a staff-only article never reaches a customer)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.clock import now
from portal.kb import service
from portal.kb.service import ArticleInput, CategoryInput
from portal.kb.tables import Article, ArticleVote, SearchLog
from tests.conftest import login, staff_login

LONG_BODY = "\n\n".join(f"## Bölüm {i}\n\nİade adımı {i} için ayrıntılar." for i in range(1, 5))


async def _article(
    slug,
    title,
    body="İade metni.",
    *,
    lang="tr",
    visibility="everyone",
    status="published",
    category=None,
    group=None,
    summary="Kısa özet",
    publish_at=None,
) -> int:
    article_id = await service.save_article(
        None,
        ArticleInput(
            lang=lang,
            title=title,
            slug=slug,
            body_markdown=body,
            visibility=visibility,
            summary=summary,
            category=category,
            translation_group=group,
        ),
        author=None,
        now=now(),
    )
    if status != "draft":
        await service.set_status(article_id, status, now=now(), publish_at=publish_at)
    return article_id


@pytest.fixture
async def kb(running_app):
    top = await service.save_category(
        None, CategoryInput(slug="iade", name_tr="İade", name_en="Returns"), now=now()
    )
    sub = await service.save_category(
        None,
        CategoryInput(slug="iade-kargo", name_tr="İade kargosu", name_en="Return shipping", parent=top),
        now=now(),
    )
    tr = await _article(
        "iade-nasil", "İade nasıl yapılır?", LONG_BODY, category=top, summary="İade adımları <özet>"
    )
    group = (await Article.select(Article.translation_group).where(Article.id == tr).first())[
        "translation_group"
    ]
    await _article(
        "how-to-return",
        "How to return an item",
        "Returns take 14 days.",
        lang="en",
        category=top,
        group=group,
        summary="Return steps",
    )
    await _article("iade-kargo-ucreti", "İade kargo ücreti", "Ücretsiz iade kargosu.", category=sub)
    await _article("musteri-iade", "Müşteri iade kodu", "Kod ile iade.", visibility="customers", category=top)
    await _article(
        "personel-iade", "Personel iade notu", "Gizli iade süreci.", visibility="staff", category=top
    )
    await _article("taslak-iade", "Taslak iade", "iade", status="draft", category=top)
    await _article("gelecek-iade", "Gelecek iade", "iade", category=top, publish_at=now() + timedelta(days=2))
    return {"tr": tr, "top": top, "sub": sub}


SECRET_SLUGS = ("personel-iade", "taslak-iade", "gelecek-iade")


async def test_home_lists_topics_and_popular_articles_for_a_guest(client, kb):
    response = await client.get("/kb")
    assert response.status_code == 200
    assert 'href="/kb/iade"' in response.text and "İade nasıl yapılır?" in response.text
    for slug in (*SECRET_SLUGS, "musteri-iade"):
        assert slug not in response.text


async def test_customer_sees_customer_articles_but_never_staff_ones(client, kb, alice):
    await login(client, alice)
    home = await client.get("/kb")
    assert "musteri-iade" in home.text
    for slug in SECRET_SLUGS:
        assert slug not in home.text
    for path in (
        "/kb/iade",
        "/kb/search?q=iade",
        "/kb/suggest?q=iade+personel",
        "/sitemap.xml",
        "/api/v1/kb/search?q=personel",
    ):
        response = await client.get(path)
        assert response.status_code == 200 and "personel-iade" not in response.text, path
    assert (await client.get("/kb/articles/personel-iade")).status_code == 404
    assert (await client.get("/kb/articles/musteri-iade")).status_code == 200


async def test_staff_reads_staff_articles(client, kb, carol):
    await staff_login(client, carol)
    assert (await client.get("/kb/articles/personel-iade")).status_code == 200
    assert "personel-iade" in (await client.get("/kb/search?q=personel")).text


async def test_guest_is_sent_to_log_in_for_a_customers_article(client, kb):
    response = await client.get("/kb/articles/musteri-iade")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    for slug in SECRET_SLUGS:
        assert (await client.get(f"/kb/articles/{slug}")).status_code == 404
    assert (await client.get("/kb/articles/yok-boyle-bir-sey")).status_code == 404


async def test_category_page_with_breadcrumbs_and_subcategories(client, kb):
    response = await client.get("/kb/iade")
    assert response.status_code == 200
    assert "İade nasıl yapılır?" in response.text and 'href="/kb/iade-kargo"' in response.text
    assert "taslak-iade" not in response.text and "gelecek-iade" not in response.text
    sub = await client.get("/kb/iade-kargo")
    assert sub.status_code == 200 and '<nav class="kb-breadcrumbs" aria-label=' in sub.text
    assert 'href="/kb/iade"' in sub.text  # the parent in the breadcrumbs
    assert (await client.get("/kb/nope")).status_code == 404


async def test_article_page_for_search_engines_and_readers(client, kb):
    response = await client.get("/kb/articles/iade-nasil")
    assert response.status_code == 200
    html = response.text
    assert '<meta name="description" content="İade adımları &lt;özet&gt;">' in html
    assert '<link rel="canonical" href="http://portal.test/kb/articles/iade-nasil?lang=tr">' in html
    assert 'hreflang="en" href="http://portal.test/kb/articles/how-to-return?lang=en"' in html
    assert 'lang="tr"' in html and 'class="kb-toc"' in html and 'href="#kb-bolum-1"' in html
    assert 'id="kb-bolum-1"' in html
    assert '<a href="/kb/iade">' in html  # breadcrumb
    english = await client.get("/kb/articles/how-to-return")
    assert 'hreflang="tr"' in english.text and 'class="kb-toc"' not in english.text  # short: no TOC


async def test_views_are_counted_but_not_prefetches(client, kb):
    await client.get("/kb/articles/iade-nasil")
    await client.get("/kb/articles/iade-nasil?ref=suggest")
    await client.get("/kb/articles/iade-nasil", headers={"Sec-Purpose": "prefetch"})
    row = await Article.select(Article.views, Article.suggest_clicks).where(Article.id == kb["tr"]).first()
    assert row == {"views": 2, "suggest_clicks": 1}


async def test_search_page_highlights_and_logs_submitted_searches(client, kb):
    response = await client.get("/kb/search", params={"q": "İADE"})
    assert response.status_code == 200
    assert "<mark>İade</mark>" in response.text and "<html" in response.text
    assert "personel-iade" not in response.text and "musteri-iade" not in response.text
    fragment = await client.get("/kb/search", params={"q": "iade kargo"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="kb-results"' in fragment.text
    await service.flush_search_log()  # searches are logged in batches
    logs = await SearchLog.select(SearchLog.query, SearchLog.results)
    assert logs == [{"query": "iade", "results": 2}]  # the htmx one was typing, not logged
    empty = await client.get("/kb/search", params={"q": "zebra"})
    assert "/f/contact" in empty.text
    await service.flush_search_log()
    assert (await SearchLog.select(SearchLog.results).where(SearchLog.query == "zebra")) == [{"results": 0}]


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "iade AND",
        "NEAR(",
        "*",
        "x" * 5000,
        "a\x00b",
        "<script>alert(1)</script>",
        "'; DROP TABLE kb_article; --",
        "iade:*",
        "-",
        "^",
    ],
)
async def test_search_page_takes_any_input(client, kb, q):
    response = await client.get("/kb/search", params={"q": q})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    api = await client.get("/api/v1/kb/search", params={"q": q})
    assert api.status_code == 200 and isinstance(api.json()["items"], list)


async def test_api_search_is_public_and_shaped(client, kb):
    response = await client.get("/api/v1/kb/search", params={"q": "iade", "lang": "tr"})
    assert response.status_code == 200
    items = response.json()["items"]
    assert {i["slug"] for i in items} == {
        "iade-nasil",
        "iade-kargo-ucreti",
    }  # guests only: no customers' ones
    first = items[0]
    assert set(first) >= {"slug", "title", "snippet", "url", "lang"}
    assert first["url"].startswith("http://portal.test/kb/articles/") and first["lang"] == "tr"
    assert "<mark>" not in first["snippet"] and "<mark>" in first["snippet_html"]
    english = await client.get("/api/v1/kb/search", params={"q": "returns", "lang": "en"})
    assert [i["slug"] for i in english.json()["items"]] == ["how-to-return"]
    assert (await client.get("/api/v1/kb/search")).json() == {"items": [], "next": None}


async def test_sitemap_lists_only_public_published_articles(client, kb):
    response = await client.get("/sitemap.xml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    assert "/kb/articles/iade-nasil?lang=tr" in response.text and 'hreflang="en"' in response.text
    for slug in (*SECRET_SLUGS, "musteri-iade"):
        assert slug not in response.text


async def test_vote_without_javascript_once_per_visitor(client, kb):
    response = await client.post_form(
        "/kb/articles/iade-nasil/feedback", {"helpful": "yes", "comment": "Süper"}
    )
    assert response.status_code == 303 and response.headers["location"].endswith("#feedback")
    assert "kb_visitor" in response.headers.get("set-cookie", "")
    await client.post_form("/kb/articles/iade-nasil/feedback", {"helpful": "no"})  # changes the vote
    row = await Article.select(Article.helpful_yes, Article.helpful_no).where(Article.id == kb["tr"]).first()
    assert row == {"helpful_yes": 0, "helpful_no": 1}
    assert await ArticleVote.count() == 1


async def test_vote_with_htmx_and_bad_votes(client, other_client, kb):
    response = await client.post_form("/kb/articles/iade-nasil/feedback", {"helpful": "yes"}, htmx=True)
    assert response.status_code == 200 and 'id="feedback"' in response.text and "<html" not in response.text
    assert (
        await client.post_form("/kb/articles/iade-nasil/feedback", {"helpful": "maybe"})
    ).status_code == 400
    assert (
        await client.post_form("/kb/articles/personel-iade/feedback", {"helpful": "yes"})
    ).status_code == 404
    await other_client.post_form("/kb/articles/iade-nasil/feedback", {"helpful": "yes"})
    row = await Article.select(Article.helpful_yes).where(Article.id == kb["tr"]).first()
    assert row["helpful_yes"] == 2  # two browsers, two visitors


async def test_a_customer_votes_once_from_any_device(client, other_client, kb, alice):
    await login(client, alice)
    await login(other_client, alice)
    await client.post_form("/kb/articles/iade-nasil/feedback", {"helpful": "yes"})
    await other_client.post_form("/kb/articles/iade-nasil/feedback", {"helpful": "yes"})
    assert await ArticleVote.count() == 1


async def test_votes_are_throttled(client, kb):
    statuses = [
        (await client.post_form("/kb/articles/iade-nasil/feedback", {"helpful": "yes"})).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [303] * 20 and statuses[20] == 429


async def test_vote_without_csrf_is_refused(client, kb):
    response = await client.post("/kb/articles/iade-nasil/feedback", data={"helpful": "yes"})
    assert response.status_code == 403
    assert await ArticleVote.count() == 0


async def test_suggestions_fragment_and_counters(client, kb):
    response = await client.get(
        "/kb/suggest",
        params={"subject": "iade", "message": "ürünü geri göndermek"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "<html" not in response.text
    assert (
        response.text.count("<li") <= 3
        and "ref=suggest" in response.text
        and "personel-iade" not in response.text
    )
    answered = await client.post_form("/kb/suggest/answered", {"article": str(kb["tr"])}, htmx=True)
    assert answered.status_code == 200 and 'role="status"' in answered.text
    row = await Article.select(Article.suggest_answered).where(Article.id == kb["tr"]).first()
    assert row["suggest_answered"] == 1
    staff_only = await Article.select(Article.id).where(Article.slug == "personel-iade").first()
    await client.post_form("/kb/suggest/answered", {"article": str(staff_only["id"])}, htmx=True)
    row = await Article.select(Article.suggest_answered).where(Article.id == staff_only["id"]).first()
    assert row["suggest_answered"] == 0
    assert (await client.post_form("/kb/suggest/answered", {"article": "x"})).status_code == 400
    assert (await client.get("/kb/suggest", params={"q": ""})).text.strip() == ""


async def test_hostile_markdown_is_inert_on_the_public_page(client, running_app):
    body = (
        "<script>alert(1)</script>\n\n[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) "
        "[c](&#106;avascript:alert(1))\n\n<img src=x onerror=alert(1)>\n\n<svg onload=alert(1)></svg>\n\n"
        '<a href="javascript:alert(1)" onclick="alert(1)">d</a>'
    )
    await _article("kotu", "Kötü", body)
    html = (await client.get("/kb/articles/kotu")).text
    article = html[html.index('class="kb-body"') :]
    assert "<script>alert" not in article and "onerror" not in article and "onclick" not in article
    assert "<svg" not in article and 'href="javascript' not in article.lower()
    assert '<img>' in article and 'src="x"' not in article  # only our own /kb/files/ images keep a src


async def test_search_falls_back_to_the_other_language(client, kb):
    response = await client.get("/kb/search", params={"q": "iadeler", "lang": "en"})
    assert response.status_code == 200 and "iade-nasil" in response.text
    suggest = await client.get("/kb/suggest", params={"q": "returns", "lang": "tr"})
    assert "how-to-return" in suggest.text
    strict = await client.get("/api/v1/kb/search", params={"q": "iadeler", "lang": "en"})
    assert strict.json()["items"] == []  # the API answers in the language it was asked for
    loose = await client.get("/api/v1/kb/search", params={"q": "iadeler"}, headers={"Accept-Language": "en"})
    assert {i["lang"] for i in loose.json()["items"]} == {"tr"}


async def test_a_category_lists_its_articles_in_turkish_alphabetical_order(client, kb):
    for slug, title in (("zil", "Zil sesi"), ("odeme", "Ödeme iadesi"), ("isik", "Işık iadesi"),
                        ("canta", "Çanta iadesi"), ("cuzdan", "Cüzdan iadesi"), ("ozon", "Ozon iadesi")):
        await _article(slug, title, category=kb["top"])
    page = (await client.get("/kb/iade")).text
    order = ["Cüzdan iadesi", "Çanta iadesi", "Işık iadesi", "İade nasıl yapılır?", "Ozon iadesi",
             "Ödeme iadesi", "Zil sesi"]
    positions = [page.index(title) for title in order]
    assert positions == sorted(positions), order
