"""``/staff/queue``: views, filters, the nearest due time first, keyset pages, bulk changes.

A bulk change goes ticket by ticket; the page then lists what changed and, one by one, what
could not be changed and why (another team's ticket, a status it cannot move to…).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import Request, Response, get, post
from litestar.response import Template

from portal.auth import AGENT
from portal.clock import now
from portal.i18n import N_, _
from portal.staff.ticket_context import actor, labels
from portal.tickets import changes, queries
from portal.tickets.queue import SORTS, VIEWS, Filters, queue
from portal.tickets.rules import CHANNELS, PRIORITIES, STATUSES
from portal.web import Form, FormBody, ctx, flash, redirect, render, services

TEMPLATE = "staff/queue.html"
REASONS = {
    "forbidden": N_("not your team's ticket"),
    "bad_transition": N_("its status cannot move that way"),
    "not_found": N_("no such ticket"),
    "no_assignee": N_("no such agent"),
    "no_team": N_("no such team"),
    "bad_priority": N_("not a priority"),
    "bad_status": N_("not a status"),
}
BULK_ACTIONS = ("assign", "status", "priority", "tag")


def _filters(params: dict[str, Any]) -> Filters:
    team = params.get("team") or ""
    return Filters(view=params.get("view") or "all_open", status=params.get("status") or "",
                   priority=params.get("priority") or "", team=int(team) if team.isdigit() else None,
                   assignee=params.get("assignee") or "", tag=params.get("tag") or "",
                   channel=params.get("channel") or "", q=params.get("q") or "",
                   sort=params.get("sort") or "due").clean()


def _query_string(f: Filters) -> str:
    pairs = {"view": f.view, "status": f.status, "priority": f.priority, "team": f.team or "",
             "assignee": f.assignee, "tag": f.tag, "channel": f.channel, "q": f.q, "sort": f.sort}
    return urlencode({k: v for k, v in pairs.items() if v not in ("", None)})


async def _page(request: Request, params: dict[str, Any], *, cursor: str | None = None,
                block: str | None = None, report: Any = None, form: Form | None = None,
                status: int = 200) -> Template:
    me = await actor(request)
    f = _filters(params)
    page = await queue(f, staff_id=me.staff_id, team_ids=set(me.team_ids), now=now(),  # type: ignore[arg-type]
                       tz=services(request).settings.tz, cursor=cursor)
    return render(request, TEMPLATE, block=block, status=status, filters=f, page=page, qs=_query_string(f),
                  views=VIEWS, sorts=SORTS, statuses=STATUSES, channels=CHANNELS, priorities_all=PRIORITIES,
                  teams=await queries.teams(), agents=await queries.agents(), report=report, reasons=REASONS,
                  bulk_form=form or Form({}), headers={"Cache-Control": "private, no-store"}, **labels())


@get("/staff/queue", opt=AGENT, include_in_schema=False)
async def queue_page(request: Request, cursor: str | None = None) -> Template:
    """With ``cursor``, htmx asks for the next rows only (block ``rows``)."""
    params = dict(request.query_params)
    block = "rows" if cursor else "queue"
    return await _page(request, params, cursor=cursor, block=block)


def _bulk_changes(form: Form, me: int) -> dict[str, Any]:
    action = form.choice("action", BULK_ACTIONS)
    if action == "assign":
        raw = form.text("assignee", required=False, max_length=12)
        if raw == "me":
            return {"assignee": me}
        if raw and not raw.isdigit():
            form.add_error("assignee", _("Please choose one of the options."))
        return {"assignee": int(raw) if raw.isdigit() else None}
    if action == "status":
        return {"status": form.choice("status", STATUSES)}
    if action == "priority":
        return {"priority": form.choice("priority", PRIORITIES)}
    if action == "tag":
        return {"add_tags": form.text("tag", max_length=200)}
    return {}


@post("/staff/queue/bulk", opt=AGENT, include_in_schema=False)
async def bulk(request: Request, data: FormBody) -> Response:
    """Apply one change to the ticked tickets and report, ticket by ticket, what happened:
    flashed after a redirect without JavaScript, in the refreshed queue with htmx."""
    form = Form(data)
    raw_ids = data.get("ids") or []
    ids = [int(i) for i in (raw_ids if isinstance(raw_ids, list) else [raw_ids]) if str(i).isdigit()]
    if not ids:
        form.add_error("ids", _("Tick the tickets to change first."))
    wanted = _bulk_changes(form, ctx(request).staff["id"])
    params = dict(parse_qsl(str(data.get("back") or "")))
    if not form.ok:
        return await _page(request, params, block="queue", form=form, status=422)
    report = await changes.bulk(ids, wanted, actor=await actor(request), now=now())
    if getattr(request, "htmx", None):
        return await _page(request, params, block="queue", report=report)
    if report.changed or report.unchanged:
        flash(request, _("Changed: %(refs)s", refs=", ".join(report.changed + report.unchanged)))
    for label, code in report.refused:
        reason = _(REASONS[code]) if code in REASONS else code
        flash(request, _("Not changed: %(ref)s (%(reason)s)", ref=label, reason=reason), "error")
    return redirect("/staff/queue?" + _query_string(_filters(params)))


ROUTES = [queue_page, bulk]
