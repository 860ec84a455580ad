"""The public knowledge base: /kb, search, categories, articles, votes, suggestions, the
sitemap and the JSON search API. Every handler is public; what a visitor may read is decided
inside the queries, by their audience (guest, logged-in customer, staff).
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import MediaType, Request, Response, get, post
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.response import Template
from markupsafe import Markup

from portal.assets import NO_COMPRESSION
from portal.auth import PUBLIC
from portal.clock import now
from portal.i18n import LOCALES, _
from portal.kb import images, queries, search, service
from portal.security import new_token, sign
from portal.tickets.files import content_disposition
from portal.web import FormBody, ctx, error_page, flash, redirect, render, services

PAGE_SIZE = 10
MAX_PAGES = 20
VISITOR_COOKIE = "kb_visitor"
VOTE_LIMIT = (20, 3600)  # votes per address per hour
PAGE = {"opt": PUBLIC, "include_in_schema": False}


def audience(request: Request) -> tuple[str, ...]:
    c = ctx(request)
    return service.audience(customer=c.customer is not None, staff=c.staff is not None)


def _lang(request: Request, value: str | None = None) -> str:
    return value if value in LOCALES else ctx(request).locale


@get("/kb", **PAGE)
async def kb_home(request: Request) -> Template:
    lang, who, t = _lang(request), audience(request), now()
    return render(request, "kb/home.html", categories=await queries.category_tree(who, lang, t),
                  popular=await queries.popular(who, lang, t), lang=lang, q="")


@get("/kb/search", **PAGE)
async def kb_search(request: Request, q: str = "", page: int = 1) -> Template:
    lang = _lang(request)
    page = min(max(page, 1), MAX_PAGES)
    query, rows = await search.search_either(q, lang, audience(request), now=now(), limit=PAGE_SIZE + 1,
                                             offset=(page - 1) * PAGE_SIZE)
    more = len(rows) > PAGE_SIZE
    # Typed-as-you-go requests (htmx) are not logged: only searches that were submitted.
    if query and page == 1 and not request.htmx:
        await service.log_search(query.folded, lang, len(rows), now=now())
    return render(request, "kb/search.html", block="results", q=search.clean(q), page=page, more=more,
                  results=search.highlighted(rows[:PAGE_SIZE], query), lang=lang, searched=bool(query))


@get("/kb/suggest", **PAGE)
async def kb_suggest(request: Request, q: str = "", subject: str = "", message: str = "",
                     lang: str = "") -> Template:
    """Up to three articles for what a customer is typing in a request form (a fragment)."""
    text = q or f"{subject} {message[:300]}"
    query, rows = await search.search_either(text.strip() + " ", _lang(request, lang), audience(request),
                                             now=now(), limit=3)
    return Template(template_name="kb/_suggestion_list.html", context={
        "suggestions": search.highlighted(rows, query), "locale": ctx(request).locale})


@post("/kb/suggest/answered", **PAGE)
async def kb_suggest_answered(request: Request, data: FormBody) -> Template | Response:
    """A suggestion answered the customer's question (counted; the form is not needed)."""
    try:
        article_id = int(str(data.get("article", "")))
    except ValueError:
        return error_page(request, 400)
    rows = await queries.article_ids_visible([article_id], audience(request), now())
    if rows:
        await service.record_answered(article_id)
    if not request.htmx:
        flash(request, _("Glad it helped."))
        return redirect("/kb")
    return Template(template_name="kb/_suggestion_answered.html", context={"locale": ctx(request).locale})


def _category_context(category: dict[str, Any], lang: str) -> dict[str, Any]:
    return {"name": queries.category_name(category, lang), "slug": category["slug"],
            "description": category["description_en" if lang == "en" else "description_tr"]}


@get("/kb/{slug:str}", **PAGE)
async def kb_category(request: Request, slug: str) -> Template:
    category = await queries.category_by_slug(slug)
    if category is None:
        raise NotFoundException()
    lang, who, t = _lang(request), audience(request), now()
    children = await queries.subcategories(category["id"])
    parent = await queries.category_by_id(category["parent"])
    sections = []
    for child in children:
        rows = await queries.articles_in([child["id"]], who, lang, t)
        if rows:
            sections.append({**_category_context(child, lang), "articles": rows})
    return render(request, "kb/category.html", category=_category_context(category, lang),
                  parent=_category_context(parent, lang) if parent else None, sections=sections,
                  articles=await queries.articles_in([category["id"]], who, lang, t), lang=lang)


async def _article_or_404(request: Request, slug: str) -> dict[str, Any]:
    t = now()
    article = await queries.article_for_reader(slug, audience(request), _lang(request), t)
    if article is None:
        if ctx(request).customer is None and await queries.exists_for_customers(slug, t):
            raise NotAuthorizedException()  # → the log-in page, then back here
        raise NotFoundException()
    return article


def _is_prefetch(request: Request) -> bool:
    purpose = request.headers.get("sec-purpose", "") + request.headers.get("purpose", "")
    return "prefetch" in purpose.lower()


@get("/kb/articles/{slug:str}", **PAGE)
async def kb_article(request: Request, slug: str, ref: str = "") -> Template:
    article = await _article_or_404(request, slug)
    if not _is_prefetch(request):
        await service.record_view(article["id"], from_suggestion=ref == "suggest")
    return await _article_page(request, article)


async def _article_page(request: Request, article: dict[str, Any], **extra: Any) -> Template:
    who, t, lang = audience(request), now(), article["lang"]
    category = await queries.category_by_id(article["category"])
    parent = await queries.category_by_id(category["parent"]) if category else None
    return render(
        request, "kb/article.html", block=extra.pop("block", None), article=article,
        category=_category_context(category, lang) if category else None,
        parent=_category_context(parent, lang) if parent else None,
        versions=await queries.translations(article, who, t),
        related=await queries.related(article["id"], who, lang, t),
        base=services(request).settings.base_url, **extra)


def _visitor(request: Request) -> tuple[str, str | None]:
    """(the vote key hash, a new cookie value to set or None)."""
    c = ctx(request)
    secret = services(request).settings.secret_key
    if c.customer is not None:
        return sign(secret, "kb-vote", f"customer:{c.customer['id']}"), None
    cookie = request.cookies.get(VISITOR_COOKIE, "")
    fresh = None
    if not (20 <= len(cookie) <= 64 and cookie.replace("-", "").replace("_", "").isalnum()):
        cookie = fresh = new_token(24)
    return sign(secret, "kb-vote", f"visitor:{cookie}"), fresh


@post("/kb/articles/{slug:str}/feedback", **PAGE)
async def kb_feedback(request: Request, slug: str, data: FormBody) -> Response | Template:
    article = await _article_or_404(request, slug)
    helpful = data.get("helpful")
    if helpful not in ("yes", "no"):
        return error_page(request, 400)
    ip = request.client.host if request.client else "unknown"
    verdict = await services(request).throttle.hit(f"kb-vote:{ip}", *VOTE_LIMIT)
    if not verdict.allowed:
        return error_page(request, 429, retry_after=verdict.retry_after)
    key, fresh = _visitor(request)
    outcome = await service.vote(article["id"], key, helpful=helpful == "yes",
                                 comment=str(data.get("comment", ""))[:2000], now=now())
    if outcome == "new":
        message = _("Thank you for your feedback.")
    else:
        message = _("Thank you: we updated your answer.")
    if request.htmx:
        article = await queries.article_for_reader(article["slug"], audience(request), article["lang"], now())
        response: Response | Template = await _article_page(request, article, block="feedback", voted=message)
    else:
        flash(request, message)
        response = redirect(f"/kb/articles/{article['slug']}?lang={article['lang']}#feedback")
    if fresh:
        response.set_cookie(VISITOR_COOKIE, fresh, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=services(request).settings.is_https)
    return response


@get("/kb/files/{key:str}/{name:str}", opt={**PUBLIC, NO_COMPRESSION: True}, include_in_schema=False)
async def kb_image(request: Request, key: str, name: str) -> Response:
    """An article's image, only to visitors who may read the article (404 otherwise), as an
    image that cannot turn into a page: ``nosniff`` and a sandboxing CSP."""
    c = ctx(request)
    row = await images.for_reader(key, name, audience=audience(request), staff=c.staff is not None, now=now())
    if row is None:
        raise NotFoundException()
    try:
        content = await anyio.to_thread.run_sync(images.storage(services(request).settings.var_dir).read, key)
    except (FileNotFoundError, ValueError):
        raise NotFoundException() from None
    headers = {**images.SERVE_HEADERS,
               "Cache-Control": images.PUBLIC_CACHE if row["public"] else images.PRIVATE_CACHE,
               "Content-Disposition": content_disposition(row["filename"]).replace("attachment", "inline", 1)}
    return Response(content=content, media_type=row["content_type"], headers=headers)


@get("/sitemap.xml", **PAGE, media_type="application/xml")
async def sitemap(request: Request) -> Template:
    rows = await queries.sitemap(now())
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["translation_group"], []).append(row)
    return Template(template_name="kb/sitemap.xml", media_type="application/xml", context={
        "rows": rows, "groups": groups, "base": services(request).settings.base_url})


@get("/api/v1/kb/search", opt=PUBLIC, tags=["kb"], summary="Search the knowledge base",
     media_type=MediaType.JSON)
async def api_search(request: Request, q: str = "", lang: str = "", limit: int = 10) -> dict[str, Any]:
    """Published articles anybody may read (an API caller is a guest), best first. Each item:
    ``slug``, ``title``, ``snippet`` (plain text), ``snippet_html`` (matches in ``<mark>``,
    escaped), ``url``, ``lang``."""
    limit = min(max(limit, 1), 50)
    guest = service.audience(customer=False, staff=False)
    if lang in LOCALES:  # asked for one language: only that one
        query = search.parse(q, lang)
        rows = await search.search(query, guest, now=now(), limit=limit)
    else:
        lang = _lang(request)
        query, rows = await search.search_either(q, lang, guest, now=now(), limit=limit)
    if query:
        await service.log_search(query.folded, lang, len(rows), now=now())
    base = services(request).settings.base_url
    items = []
    for row in search.highlighted(rows, query):
        snippet = str(row["snippet_html"])
        items.append({"slug": row["slug"], "title": row["title"], "lang": row["lang"],
                      "snippet": _plain(snippet), "snippet_html": snippet,
                      "url": f"{base}/kb/articles/{row['slug']}?lang={row['lang']}"})
    return {"items": items, "next": None}


def _plain(markup: str) -> str:
    return Markup(markup).striptags()  # noqa: S704 - our own escaped snippet, back to text


ROUTES = [kb_home, kb_search, kb_suggest, kb_suggest_answered, kb_category, kb_article, kb_feedback, sitemap,
          api_search, kb_image]
