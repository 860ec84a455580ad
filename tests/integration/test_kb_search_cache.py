"""The search result cache, on both databases: repeated searches are answered from memory,
and never with anything stale: an edit, a change of visibility or status, a deletion (by any
writer, through the database's change token) and a scheduled article's time all show at once,
and the audience is part of every answer."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from portal import db
from portal.clock import now
from portal.kb import search, service
from portal.kb.service import ArticleInput, audience
from portal.kb.tables import Article

EVERYONE = audience(customer=False, staff=False)
STAFF = audience(customer=False, staff=True)
TOKEN = "SELECT token FROM kb_search_state WHERE id = 1"


async def make(slug: str, title: str, body: str, *, visibility: str = "everyone", publish_at=None) -> int:
    article_id = await service.save_article(
        None, ArticleInput(lang="tr", title=title, slug=slug, body_markdown=body, visibility=visibility),
        author=None, now=now())
    await service.set_status(article_id, "published", now=now(), publish_at=publish_at)
    return article_id


async def slugs(q: str, who=EVERYONE, *, at=None) -> list[str]:
    rows = await search.search(search.parse(q, "tr"), who, now=at or now(), limit=20)
    return [r["slug"] for r in rows]


def queries() -> int:
    return db.current_engine().query_count


async def test_a_repeated_search_reads_only_the_change_token(running_app):
    await make("iade", "İade koşulları", "Ürünü 14 gün içinde geri gönderebilirsiniz.")
    first = await search.search(search.parse("iade", "tr"), EVERYONE, now=now())
    before = queries()
    again = await search.search(search.parse("İADE", "tr"), EVERYONE, now=now())  # the same words
    assert queries() - before == 1  # the token; no search, no rows
    assert again == first and str(again[0]["title_html"]) == "<mark>İade</mark> koşulları"
    again[0]["title"] = "changed by a caller"  # callers get copies
    assert (await slugs("iade")) == ["iade"]
    assert (await search.search(search.parse("iade", "tr"), EVERYONE, now=now()))[0]["title"] == "İade koşulları"


async def test_edits_visibility_status_and_deletion_show_at_once(running_app):
    article_id = await make("kelebek", "Kelebek", "kelebek türleri")
    assert await slugs("kelebek") == ["kelebek"]
    assert await slugs("kelebek", STAFF) == ["kelebek"]
    # Staff only now: a customer's cached answer must not show it any more.
    await Article.update({Article.visibility: "staff"}).where(Article.id == article_id)
    assert await slugs("kelebek") == []
    assert await slugs("kelebek", STAFF) == ["kelebek"]
    await Article.update({Article.visibility: "everyone"}).where(Article.id == article_id)
    assert await slugs("kelebek") == ["kelebek"]
    await service.set_status(article_id, "archived", now=now())
    assert await slugs("kelebek") == []
    await service.set_status(article_id, "published", now=now())
    assert await slugs("kelebek") == ["kelebek"]
    await service.save_article(article_id, ArticleInput(lang="tr", title="Zürafa", slug="kelebek",
                                                        body_markdown="uzun boyun"), author=None, now=now())
    assert await slugs("kelebek") == []
    assert await slugs("zurafa") == ["kelebek"]
    await service.delete_article(article_id)
    assert await slugs("zurafa") == []


async def test_any_writer_changes_the_token_but_counters_do_not(running_app):
    article_id = await make("sayac", "Sayaç", "metin")
    token = (await db.fetch_one(TOKEN))["token"]
    await service.record_view(article_id, from_suggestion=True)
    await service.record_answered(article_id)
    await service.vote(article_id, "v" * 64, helpful=True, comment="", now=now())
    assert (await db.fetch_one(TOKEN))["token"] == token  # views and votes leave results alone
    async with db.transaction():  # plain SQL, as another process or a bulk import would write
        await Article.raw("UPDATE kb_article SET title = {} WHERE id = {}", "Yeni sayaç", article_id)
    assert (await db.fetch_one(TOKEN))["token"] != token


async def test_a_staff_answer_is_never_a_guest_answer(running_app):
    await make("herkes", "İade herkes", "iade")
    await make("personel", "İade personel", "iade", visibility="staff")
    assert set(await slugs("iade", STAFF)) == {"herkes", "personel"}  # cached for staff first
    assert await slugs("iade", EVERYONE) == ["herkes"]
    assert set(await slugs("iade", STAFF)) == {"herkes", "personel"}


async def test_a_scheduled_article_appears_when_its_time_comes(running_app):
    await make("simdi", "Kampanya şimdi", "kampanya")
    t = now()
    await make("yarin", "Kampanya yarın", "kampanya", publish_at=t + timedelta(hours=1))
    assert await slugs("kampanya", at=t) == ["simdi"]
    assert await slugs("kampanya", at=t + timedelta(minutes=59)) == ["simdi"]
    assert set(await slugs("kampanya", at=t + timedelta(hours=1))) == {"simdi", "yarin"}
    assert await slugs("kampanya", at=t) == ["simdi"]  # a clock set back is answered afresh


async def test_a_result_found_while_an_edit_came_is_not_kept(running_app):
    article_id = await make("yaris", "Yarış", "yarış")
    slow = await search._ticket(now())  # a search starts…
    await Article.update({Article.visibility: "staff"}).where(Article.id == article_id)
    fresh = await search._ticket(now())  # …another one sees the edit…
    assert fresh is not None and fresh != slow
    query = search.parse("yaris", "tr")
    await search._search(query, STAFF, now=now(), limit=5, offset=0, ticket=slow)  # …the first one ends
    assert (query.terms, "tr", STAFF, 5, 0) not in search._cache.entries
    assert await slugs("yaris") == [] and await slugs("yaris", STAFF) == ["yaris"]
    assert (query.terms, "tr", STAFF, 20, 0) in search._cache.entries


async def test_a_migrated_database_is_cached_from_the_start(running_app):
    """The migration creates the token: a knowledge base that existed before it (or was
    bulk-loaded) is cached without waiting for an article to change."""
    assert (await db.fetch_one(TOKEN))["token"]
    assert await search._ticket(now()) is not None
    assert await slugs("iade") == []
    before = queries()
    assert await slugs("iade") == []
    assert queries() - before == 1  # the token only


# --- the highlighter's fast path is the word-by-word answer -------------------------------------

_LETTERS = "aeıioöuüçğşIİAEOÖUÜÇĞŞâîûdklnsxyz"


@settings(max_examples=300, deadline=None)
@given(words=st.lists(st.text(alphabet=_LETTERS, min_size=1, max_size=9), min_size=1, max_size=30),
       seps=st.lists(st.sampled_from([" ", ", ", ". ", "-", "_", "'", "\n", "½ "]), min_size=30, max_size=30),
       q=st.sampled_from(["iade", "ışık", "sipariş", "öde", "çağ", "İSTANBUL", "uzu", "a", "xi", "sky", "die"]))
def test_fast_hit_spans_equal_the_word_by_word_ones(words, seps, q):
    text = "".join(w + s for w, s in zip(words, seps, strict=False))
    for lang, typing in (("tr", ""), ("tr", " "), ("en", "")):
        highlighter = search.Highlighter(search.parse(q + typing, lang))
        slow = [(s, e) for s, e, parts in search.words(text) if highlighter.hits(parts)]
        assert highlighter._hit_spans(text) == slow


def test_fold_text_matches_search_fold_letter_for_letter():
    from portal.i18n import search_fold

    rng = random.Random(1)
    for _ in range(200):
        text = "".join(rng.choice(_LETTERS + " .") for _ in range(40))
        folded = search._fold_text(text)
        assert folded is not None and len(folded) == len(text)
        assert folded.split() == [search_fold(w) for w in text.split()]
