"""What the customer's ticket page and the guest page (``/t/{token}``) share: the page
itself, replying with attachments, close/reopen and attachment downloads.

Each caller has already found the ticket *scoped to the visitor* (their own, or the one of
the link); ``base`` is the URL the actions are posted under. A customer never sets a status
other than close/reopen, an assignee, a team or the internal flag: the handlers read only
``body`` and ``files``, so any other posted field has no effect.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Template

from portal.clock import now
from portal.i18n import _
from portal.tickets import files as attachments
from portal.tickets import queries, service
from portal.tickets.rules import CLOSED, PRIORITY_NAMES, SOLVED, STATUS_NAMES, Actor, TicketError
from portal.web import Form, flash, redirect, render, services

DETAIL = "customer/tickets/detail.html"
BODY_MAX = 20000
PRIVATE = {"Cache-Control": "private, no-store"}
# Guest pages carry a secret in their URL: it must not leak to other sites through Referer.
GUEST_HEADERS = {**PRIVATE, "Referrer-Policy": "no-referrer"}

MultipartBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def storage(request: Request) -> attachments.Storage:
    return attachments.Storage(services(request).settings.var_dir / "attachments")


async def uploads(data: dict[str, Any], name: str = "files") -> list[attachments.Upload]:
    """The files of a multipart form (none when the form came url-encoded)."""
    raw = data.get(name)
    items = raw if isinstance(raw, list) else [raw]
    out: list[attachments.Upload] = []
    for item in items:
        if isinstance(item, UploadFile) and item.filename:
            out.append(attachments.Upload(item.filename, await item.read(attachments.MAX_BYTES + 1)))
    return out


def attachment_error(exc: attachments.AttachmentRefused) -> str:
    if exc.code == "too_large":
        return _("%(name)s is larger than %(mb)s MB.", name=exc.filename, mb=attachments.MAX_BYTES // 2**20)
    if exc.code == "too_many":
        return _("Please attach at most %(n)s files.", n=attachments.MAX_FILES)
    if exc.code == "empty":
        return _("%(name)s is empty.", name=exc.filename)
    return _("%(name)s cannot be attached: please send PDF, image, text or office files.", name=exc.filename)


async def read_message_form(data: dict[str, Any]) -> tuple[Form, str, list[attachments.Checked]]:
    """``body`` and ``files`` of a reply form, checked; errors on the form."""
    form = Form(data)
    body = form.text("body", max_length=BODY_MAX)
    checked: list[attachments.Checked] = []
    try:
        checked = attachments.check_all(await uploads(data))
    except attachments.AttachmentRefused as exc:
        form.add_error("files", attachment_error(exc))
    return form, body, checked


def labels() -> dict:
    return {"status_names": STATUS_NAMES, "priority_names": PRIORITY_NAMES}


async def page(request: Request, ticket: dict, *, base: str, guest: bool, form: Form | None = None,
               status: int = 200, block: str | None = "conversation") -> Template:
    from portal.surveys import csat

    return render(request, DETAIL, block=block, status=status, ticket=ticket, base=base, guest=guest,
                  messages=await queries.thread(ticket["id"], internal=False), form=form or Form({}),
                  can_close=ticket["status"] not in (SOLVED, CLOSED), can_reopen=ticket["status"] == SOLVED,
                  csat=await csat.rating_box(ticket, now=now()),
                  headers=GUEST_HEADERS if guest else PRIVATE, **labels())


async def reply(request: Request, ticket: dict, data: dict[str, Any], *, base: str, guest: bool,
                actor: Actor, follow_up_base) -> Response:
    """Post a reply; a reply to a closed ticket lands on a new follow-up ticket, whose page
    (``follow_up_base(replied)``) the visitor is sent to."""
    form, body, checked = await read_message_form(data)
    if not form.ok:
        return await page(request, ticket, base=base, guest=guest, form=form, status=422)
    replied = await service.reply_as_customer(ticket["id"], actor, body, files=checked, now=now(),
                                              storage=storage(request))
    if replied.follow_up:
        flash(request, _("This request was closed, so your message opened a new request, %(ref)s.",
                         ref=f"T-{replied.ticket['number']}"))
        target = follow_up_base(replied)
        return ClientRedirect(target) if getattr(request, "htmx", None) else redirect(target)
    if getattr(request, "htmx", None):
        fresh = await queries.ticket_by_id(ticket["id"])
        return await page(request, fresh, base=base, guest=guest)  # type: ignore[arg-type]
    flash(request, _("Your reply has been sent."))
    return redirect(base)


async def set_status(request: Request, ticket: dict, action: str, *, base: str, guest: bool,
                     actor: Actor) -> Response:
    try:
        await service.customer_set_status(ticket["id"], actor, action, now=now())
    except TicketError:
        flash(request, _("This request cannot be changed that way any more."), "error")
        return redirect(base)
    if getattr(request, "htmx", None):
        fresh = await queries.ticket_by_id(ticket["id"])
        return await page(request, fresh, base=base, guest=guest)  # type: ignore[arg-type]
    message = _("Your request has been closed.") if action == "close" else _("Your request is open again.")
    flash(request, message)
    return redirect(base)


async def download(ticket: dict, attachment_id: int, store: attachments.Storage) -> Response | None:
    """A file of a public message of the ticket, as a download; None when there is none."""
    row = await queries.attachment(ticket["id"], attachment_id, internal=False)
    return None if row is None else await file_response(row, store)


async def file_response(row: dict, store: attachments.Storage) -> Response:
    """Always a download, never rendered by the browser: ``attachment``, ``nosniff`` and a
    CSP that sandboxes the response should a browser try anyway."""
    try:
        content = await anyio.to_thread.run_sync(store.read, row["storage_key"])
    except (FileNotFoundError, ValueError):
        raise NotFoundException() from None
    headers = {**attachments.DOWNLOAD_HEADERS,
               "Content-Disposition": attachments.content_disposition(row["filename"])}
    return Response(content=content, media_type=row["content_type"], headers=headers)
