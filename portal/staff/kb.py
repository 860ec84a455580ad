"""/staff/kb: write, preview, publish and schedule knowledge-base articles.

Roles: every staff member (agent and up) may read the list, write new articles and edit
*drafts*, with a live preview. Changing what customers see is a lead's call: publishing,
scheduling, archiving, editing an article that is published (or scheduled or archived),
restoring a revision and managing categories need ``lead``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import MediaType, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.response import Template

from portal.accounts.service import role_at_least
from portal.auth import AGENT, LEAD
from portal.clock import now
from portal.i18n import N_, _
from portal.kb import images, markdown, queries, service
from portal.kb.service import ArticleInput, KbError
from portal.kb.tables import LANGS, VISIBILITIES
from portal.tags import service as tags
from portal.web import Form, FormBody, ctx, flash, redirect, render, services

EDIT = "staff/kb/edit.html"
STATES = ("draft", "scheduled", "published", "archived")
STATE_NAMES = {"draft": N_("Draft"), "scheduled": N_("Scheduled"), "published": N_("Published"),
               "archived": N_("Archived")}
VISIBILITY_NAMES = {"everyone": N_("Everyone"), "customers": N_("Logged-in customers"),
                    "staff": N_("Staff only")}
ERRORS = {
    "slug_format": N_("Use lower-case letters a-z, digits and hyphens."),
    "slug_taken": N_("Another article in this language already uses this address."),
    "translation_taken": N_("That article already has a version in this language."),
    "category": N_("Please choose one of the options."),
    "too_long": N_("The text is too long."),
    "lang": N_("Please choose one of the options."),
    "visibility": N_("Please choose one of the options."),
}


def staff_of(request: Request) -> dict[str, Any]:
    return ctx(request).staff


def is_lead(request: Request) -> bool:
    return role_at_least(staff_of(request)["role"], "lead")


def options() -> dict[str, Any]:
    return {"visibilities": [(v, _(VISIBILITY_NAMES[v])) for v in VISIBILITIES],
            "langs": [("tr", "Türkçe"), ("en", "English")], "state_names": STATE_NAMES}


async def _article_or_404(article_id: int) -> dict[str, Any]:
    article = await queries.article_by_id(article_id)
    if article is None:
        raise NotFoundException()
    return article


@get("/staff/kb", opt=AGENT, include_in_schema=False)
async def kb_list(request: Request, status: str = "", lang: str = "", q: str = "", page: int = 1) -> Template:
    status = status if status in STATES else ""
    lang = lang if lang in LANGS else ""
    q = q.strip()[:100]
    rows, more = await queries.staff_list(status=status, lang=lang, text=q, page=page, now=now())
    # "state", not "status": render() takes status= itself.
    return render(request, "staff/kb/list.html", block="results", rows=rows, more=more, page=max(page, 1),
                  state=status, lang=lang, q=q, states=STATES, **options())


# --- writing ------------------------------------------------------------------------------------

def _parse(form: Form) -> dict[str, Any]:
    title = form.text("title", max_length=200)
    slug = form.text("slug", required=False, max_length=120) or markdown.slugify(title, fallback="")
    if not slug and "title" not in form.errors:
        form.add_error("slug", _(ERRORS["slug_format"]))
    category = form.text("category", required=False, max_length=12)
    return {
        "lang": form.choice("lang", LANGS), "title": title, "slug": slug,
        "summary": form.text("summary", required=False, max_length=300),
        "body_markdown": form.text("body_markdown", required=False, max_length=service.MAX_BODY, strip=False),
        "category": int(category) if category.isdigit() else None,
        "visibility": form.choice("visibility", VISIBILITIES),
        "related": [s.strip() for s in form.text("related", required=False, max_length=1000).split(",")
                    if s.strip()],
        "tags": tuple(tags.parse(form.text("tags", required=False, max_length=1000))),
        "translation_group": form.text("translation_group", required=False, max_length=32) or None,
    }


async def _save(request: Request, article_id: int | None, form: Form) -> int | None:
    fields = _parse(form)
    if not form.ok:
        return None
    related = await queries.article_ids_by_slug(fields.pop("related"), fields["lang"])
    data = ArticleInput(**fields, related=tuple(related))
    try:
        return await service.save_article(article_id, data, author=staff_of(request)["id"], now=now())
    except KbError as exc:
        form.add_error(exc.field or "form", _(ERRORS.get(exc.code, N_("This could not be saved."))))
        return None


async def edit_page(request: Request, article: dict[str, Any] | None, *, form: Form | None = None,
                    status: int = 200, **extra: Any) -> Template:
    t = now()
    context: dict[str, Any] = {"article": article, "categories": await queries.categories(),
                               "can_publish": is_lead(request), **options(), **extra}
    if article is not None:
        related = ", ".join(r["slug"] for r in await queries.related_ids(article["id"]))
        article_tags = ", ".join((await tags.of("article", [article["id"]])).get(article["id"], []))
        if form is None:
            names = ("title", "slug", "lang", "summary", "body_markdown", "visibility", "translation_group")
            form = Form({name: article[name] for name in names} | {
                "category": str(article["category"] or ""), "related": related, "tags": article_tags})
        context.update(state=queries.state_of(article, t), versions=await queries.other_versions(article),
                       local_publish_at=_local_input(article["publish_at"], request),
                       images=await images.for_article(article["id"]), image_accept=images.ACCEPT)
    context["form"] = form or Form({})
    context["preview"] = markdown.render(context["form"].data.get("body_markdown") or "").html
    return render(request, EDIT, status=status, **context)


@get("/staff/kb/new", opt=AGENT, include_in_schema=False)
async def kb_new(request: Request, translation_of: int | None = None) -> Template:
    values: dict[str, Any] = {"lang": "tr", "visibility": "everyone"}
    if translation_of is not None:
        source = await _article_or_404(translation_of)
        values = {"lang": "en" if source["lang"] == "tr" else "tr", "visibility": source["visibility"],
                  "category": str(source["category"] or ""), "translation_group": source["translation_group"]}
    return await edit_page(request, None, form=Form(values))


@post("/staff/kb/new", opt=AGENT, include_in_schema=False)
async def kb_create(request: Request, data: FormBody) -> Response | Template:
    form = Form(data)
    article_id = await _save(request, None, form)
    if article_id is None:
        return await edit_page(request, None, form=form, status=422)
    flash(request, _("The article has been saved as a draft."))
    return redirect(f"/staff/kb/{article_id}")


@get("/staff/kb/{article_id:int}", opt=AGENT, include_in_schema=False)
async def kb_edit(request: Request, article_id: int) -> Template:
    article = await _article_or_404(article_id)
    return await edit_page(request, article)


@post("/staff/kb/{article_id:int}", opt=AGENT, include_in_schema=False)
async def kb_update(request: Request, article_id: int, data: FormBody) -> Response | Template:
    article = await _article_or_404(article_id)
    if article["status"] != "draft" and not is_lead(request):
        raise PermissionDeniedException()
    form = Form(data)
    if await _save(request, article_id, form) is None:
        return await edit_page(request, article, form=form, status=422)
    flash(request, _("The article has been saved."))
    return redirect(f"/staff/kb/{article_id}")


@post("/staff/kb/preview", opt=AGENT, include_in_schema=False, media_type=MediaType.HTML, status_code=200)
async def kb_preview(data: FormBody) -> Response:
    """The sanitised HTML of the Markdown being written (the same rendering as at save)."""
    body = str(data.get("body_markdown", ""))[: service.MAX_BODY]
    return Response(markdown.render(body).html, media_type=MediaType.HTML,
                    headers={"Cache-Control": "no-store"})


# --- publishing ---------------------------------------------------------------------------------

def _local_input(value: datetime | None, request: Request) -> str:
    """A stored time as a ``datetime-local`` value in the portal's time zone."""
    if value is None:
        return ""
    return value.astimezone(services(request).settings.tz).strftime("%Y-%m-%dT%H:%M")


def _local_datetime(value: str, request: Request) -> datetime | None:
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=services(request).settings.tz)


@post("/staff/kb/{article_id:int}/status", opt=LEAD, include_in_schema=False)
async def kb_status(request: Request, article_id: int, data: FormBody) -> Response | Template:
    article = await _article_or_404(article_id)
    form = Form(data)
    action = form.choice("action", ("publish", "schedule", "draft", "archive"))
    publish_at = None
    if action == "schedule":
        publish_at = _local_datetime(form.text("publish_at", max_length=40), request)
        if publish_at is None or publish_at <= now():
            form.add_error("publish_at", _("Choose a date and time in the future."))
    if not form.ok:
        return await edit_page(request, article, status=422, status_form=form)
    status = {"publish": "published", "schedule": "published", "draft": "draft",
              "archive": "archived"}[action]
    await service.set_status(article_id, status, now=now(), publish_at=publish_at)
    messages = {"publish": _("The article is published."), "schedule": _("The article is scheduled."),
                "draft": _("The article is a draft again."), "archive": _("The article is archived.")}
    flash(request, messages[action])
    return redirect(f"/staff/kb/{article_id}")


ROUTES = [kb_list, kb_new, kb_create, kb_edit, kb_update, kb_preview, kb_status]
