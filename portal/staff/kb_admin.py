"""/staff/kb: revisions with a diff and restore, the search report, categories and article
images.

Reading revisions and the report is for every staff member; restoring a revision and
changing categories is a lead's (see :mod:`portal.staff.kb`). Images follow the rule for the
article's text: any staff member on a draft, a lead on a live (or scheduled, or archived) one.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body
from litestar.response import Template

from portal.auth import AGENT, LEAD
from portal.clock import now
from portal.i18n import N_, _
from portal.kb import images, queries, service
from portal.kb.service import CategoryInput, KbError
from portal.staff.kb import edit_page, is_lead
from portal.tickets.files import AttachmentRefused, Upload
from portal.web import Form, FormBody, ctx, flash, redirect, render, services

MultipartBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
CATEGORY_ERRORS = {
    "slug_format": N_("Use lower-case letters a-z, digits and hyphens."),
    "slug_taken": N_("Another topic already uses this address."),
    "parent": N_("A topic can sit under a top-level topic only (two levels)."),
}


async def _article_or_404(article_id: int) -> dict[str, Any]:
    article = await queries.article_by_id(article_id)
    if article is None:
        raise NotFoundException()
    return article


def diff_lines(old: str, new: str) -> list[tuple[str, str]]:
    """Line changes from ``old`` to ``new`` as (kind, text): kind is ``+``, ``-``, `` `` or ``@``."""
    out: list[tuple[str, str]] = []
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2)
    for line in list(lines)[2:]:  # skip the ---/+++ header
        kind = line[:1] if line[:1] in "+-@" else " "
        out.append((kind, line[1:] if kind in "+- " else line))
    return out


@get("/staff/kb/{article_id:int}/revisions", opt=AGENT, include_in_schema=False)
async def kb_revisions(request: Request, article_id: int) -> Template:
    article = await _article_or_404(article_id)
    return render(request, "staff/kb/revisions.html", article=article,
                  revisions=await queries.revisions(article_id))


@get("/staff/kb/{article_id:int}/revisions/{revision_id:int}", opt=AGENT, include_in_schema=False)
async def kb_revision(request: Request, article_id: int, revision_id: int) -> Template:
    article = await _article_or_404(article_id)
    revision = await queries.revision(article_id, revision_id)
    if revision is None:
        raise NotFoundException()
    previous = await queries.previous_revision(article_id, revision_id)
    before = previous["body_markdown"] if previous else ""
    return render(request, "staff/kb/revision.html", article=article, revision=revision, previous=previous,
                  changes=diff_lines(before, revision["body_markdown"]),
                  to_current=diff_lines(revision["body_markdown"], article["body_markdown"]),
                  title_changed=bool(previous) and previous["title"] != revision["title"])


@post("/staff/kb/{article_id:int}/revisions/{revision_id:int}/restore", opt=LEAD, include_in_schema=False)
async def kb_restore(request: Request, article_id: int, revision_id: int) -> Response:
    try:
        await service.restore_revision(article_id, revision_id, author=ctx(request).staff["id"], now=now())
    except KbError:
        raise NotFoundException() from None
    flash(request, _("The revision has been restored."))
    return redirect(f"/staff/kb/{article_id}")


@get("/staff/kb/report", opt=AGENT, include_in_schema=False)
async def kb_report(request: Request, days: int = 30) -> Template:
    days = days if days in (7, 30, 90) else 30
    report = await queries.search_report(now=now(), days=days)
    return render(request, "staff/kb/report.html", report=report, days=days)


# --- categories ---------------------------------------------------------------------------------

def _category_input(form: Form) -> CategoryInput:
    parent = form.text("parent", required=False, max_length=12)
    position = form.text("position", required=False, max_length=6)
    return CategoryInput(
        slug=form.text("slug", max_length=80), name_tr=form.text("name_tr", max_length=120),
        name_en=form.text("name_en", max_length=120),
        description_tr=form.text("description_tr", required=False, max_length=300),
        description_en=form.text("description_en", required=False, max_length=300),
        parent=int(parent) if parent.isdigit() else None,
        position=int(position) if position.lstrip("-").isdigit() else 0)


async def categories_page(request: Request, *, form: Form | None = None, editing: int | None = None,
                          status: int = 200) -> Template:
    rows = await queries.categories()
    return render(request, "staff/kb/categories.html", status=status, categories=rows, form=form or Form({}),
                  editing=editing, tops=[r for r in rows if r["parent"] is None])


@get("/staff/kb/categories", opt=AGENT, include_in_schema=False)
async def kb_categories(request: Request, edit: int | None = None) -> Template:
    return await categories_page(request, editing=edit)


async def _save_category(request: Request, category_id: int | None,
                         data: dict[str, Any]) -> Response | Template:
    form = Form(data)
    values = _category_input(form)
    if form.ok:
        try:
            await service.save_category(category_id, values, now=now())
        except KbError as exc:
            message = CATEGORY_ERRORS.get(exc.code, N_("This could not be saved."))
            form.add_error(exc.field or "slug", _(message))
    if not form.ok:
        return await categories_page(request, form=form, editing=category_id, status=422)
    flash(request, _("The topic has been saved."))
    return redirect("/staff/kb/categories")


@post("/staff/kb/categories", opt=LEAD, include_in_schema=False)
async def kb_category_create(request: Request, data: FormBody) -> Response | Template:
    return await _save_category(request, None, data)


@post("/staff/kb/categories/{category_id:int}", opt=LEAD, include_in_schema=False)
async def kb_category_update(request: Request, category_id: int, data: FormBody) -> Response | Template:
    if await queries.category_by_id(category_id) is None:
        raise NotFoundException()
    return await _save_category(request, category_id, data)


# --- images -------------------------------------------------------------------------------------

def _image_error(exc: AttachmentRefused) -> str:
    if exc.code == "too_large":
        return _("%(name)s is larger than %(mb)s MB.", name=exc.filename, mb=images.MAX_BYTES // 2**20)
    if exc.code == "empty":
        return _("%(name)s is empty.", name=exc.filename) if exc.filename else _("Please choose an image.")
    return _("%(name)s is not a PNG, JPEG, GIF or WebP image.", name=exc.filename)


async def _editable_article(request: Request, article_id: int) -> dict[str, Any]:
    article = await _article_or_404(article_id)
    if article["status"] != "draft" and not is_lead(request):
        raise PermissionDeniedException()
    return article


@post("/staff/kb/{article_id:int}/images", opt=AGENT, include_in_schema=False)
async def kb_image_upload(request: Request, article_id: int, data: MultipartBody) -> Response | Template:
    article = await _editable_article(request, article_id)
    item = data.get("image")
    upload = Upload("", b"")
    if isinstance(item, UploadFile) and item.filename:
        upload = Upload(item.filename, await item.read(images.MAX_BYTES + 1))
    try:
        checked = images.check(upload)
    except AttachmentRefused as exc:
        return await edit_page(request, article, status=422, image_error=_image_error(exc))
    image = await images.add(article_id, checked, store=images.storage(services(request).settings.var_dir),
                             uploaded_by=ctx(request).staff["id"], now=now())
    flash(request, _("The image %(name)s has been uploaded: paste its Markdown into the text.",
                     name=image.filename))
    return redirect(f"/staff/kb/{article_id}#kb-images")


@post("/staff/kb/{article_id:int}/images/{image_id:int}/delete", opt=AGENT, include_in_schema=False)
async def kb_image_delete(request: Request, article_id: int, image_id: int) -> Response:
    await _editable_article(request, article_id)
    if not await images.delete(article_id, image_id, store=images.storage(services(request).settings.var_dir)):
        raise NotFoundException()
    flash(request, _("The image has been deleted."))
    return redirect(f"/staff/kb/{article_id}#kb-images")


ROUTES = [kb_revisions, kb_revision, kb_restore, kb_report, kb_categories, kb_category_create,
          kb_category_update, kb_image_upload, kb_image_delete]
