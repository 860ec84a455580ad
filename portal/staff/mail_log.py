"""The staff mail log at /staff/mail: every mail in the outbox, its state, and its content.

The HTML body of a mail is never put into a staff page: it is served on its own URL with a
CSP that allows no script, no network and no same-origin access (``sandbox``), and shown in
an ``<iframe sandbox>``. So HTML that reached a mail from customer input can do nothing here.
"""

from __future__ import annotations

from litestar import MediaType, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.auth import AGENT, LEAD
from portal.clock import now
from portal.i18n import _
from portal.mail import queries
from portal.mail import service as mail_service
from portal.web import flash, redirect, render, services

# The mail's own HTML: inline styles and data: images only, framed by our pages alone.
MAIL_HTML_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                 "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox")


@get("/staff/mail", opt=AGENT, include_in_schema=False)
async def mail_log(request: Request, status: str = "", to: str = "", before: int | None = None) -> Template:
    status = status if status in queries.STATUSES else ""
    to = to.strip()[:320]
    page = await queries.mail_log(status=status, recipient=to, before=before)
    # ``status`` is render()'s HTTP status argument: the filter goes in as ``shown``.
    return render(request, "staff/mail/list.html", block="results", page=page, shown=status, to=to,
                  before=before, counts=await queries.outbox_counts())


async def _mail_or_404(mail_id: int) -> dict:
    row = await queries.mail_detail(mail_id)
    if row is None:
        raise NotFoundException()
    return row


@get("/staff/mail/{mail_id:int}", opt=AGENT, include_in_schema=False)
async def mail_detail(request: Request, mail_id: int) -> Template:
    row = await _mail_or_404(mail_id)
    # (``headers`` would be render()'s response headers.)
    shown = queries.display_headers(row, services(request).settings.mail_from)
    return render(request, "staff/mail/detail.html", mail=row, mail_headers=shown)


@get("/staff/mail/{mail_id:int}/html", opt=AGENT, include_in_schema=False, cache=False)
async def mail_html(mail_id: int) -> Response:
    html = await queries.mail_html(mail_id)
    if html is None:
        raise NotFoundException()
    return Response(html, media_type=MediaType.HTML, headers={
        "Content-Security-Policy": MAIL_HTML_CSP,
        "X-Frame-Options": "SAMEORIGIN",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    })


@post("/staff/mail/{mail_id:int}/requeue", opt=LEAD, include_in_schema=False)
async def mail_requeue(request: Request, mail_id: int) -> Response | Template:
    await _mail_or_404(mail_id)
    if await mail_service.requeue(mail_id, now=now()):
        notice = ("success", _("The mail is queued again and will be sent shortly."))
    else:
        notice = ("error", _("Only a mail that failed can be sent again."))
    if request.htmx:
        row = await _mail_or_404(mail_id)
        return render(request, "staff/mail/detail.html", block="status", mail=row, notice=notice)
    flash(request, notice[1], notice[0])
    return redirect(f"/staff/mail/{mail_id}")


ROUTES = [mail_log, mail_detail, mail_html, mail_requeue]
