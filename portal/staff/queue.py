"""``/staff/queue``: views, filters, the nearest due time first, keyset pages, bulk changes.

A bulk change goes ticket by ticket; the page then lists what changed and, one by one, what
could not be changed and why (another team's ticket, a status it cannot move to…).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar import Request, Response, get, post
from litestar.response import Template
from markupsafe import Markup, escape

from portal.auth import AGENT
from portal.clock import now
from portal.i18n import N_, _, format_datetime, get_locale
from portal.staff.ticket_context import actor, labels
from portal.tickets import changes, queries
from portal.tickets.queries import Choices
from portal.tickets.queue import SORTS, VIEWS, Filters, queue
from portal.tickets.rules import CHANNEL_NAMES, CHANNELS, PRIORITIES, PRIORITY_NAMES, STATUS_NAMES, STATUSES, Actor
from portal.web import Form, FormBody, ctx, flash, redirect, render, services

TEMPLATE = "staff/queue.html"
CONTROLS = "staff/_queue_controls.html"
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


class _SlaText:
    """The queue's SLA cell, as ``staff/_sla.html``'s ``remaining`` macro writes it, with the
    phrases translated once per page instead of once per row. Translations are markup (as
    ``_()`` in a page); the only values put into them are numbers and these phrases."""

    def __init__(self) -> None:
        self.none = Markup('<span class="muted">' + _("no target") + "</span>")  # noqa: S704 - our catalogs
        self.paused = Markup('<span class="sla sla-paused">' + _("paused") + "</span>")  # noqa: S704 - as above
        self.missed = ' <span class="sla sla-breached">' + _("a target was missed") + "</span>"
        self.ago = '<span class="sla sla-breached">' + _("breached %(t)s ago") + "</span>"
        self.left = {state: f'<span class="sla sla-{state}">' + _("%(t)s left") + "</span>" for state in ("soon", "ok")}
        self.days, self.hours, self.mins = _("%(d)s d %(h)s h"), _("%(h)s h %(m)s min"), _("%(m)s min")

    def duration(self, td: timedelta) -> str:
        minutes = int(abs(td.total_seconds()) // 60)
        d, h, m = minutes // 1440, (minutes % 1440) // 60, minutes % 60
        if d:
            return self.days % {"d": d, "h": h}
        return self.hours % {"h": h, "m": m} if h else self.mins % {"m": m}

    def __call__(self, s: dict | None) -> Markup:
        if s is None:
            return self.none
        state = s["state"]
        if state == "paused":
            return self.paused
        if state == "breached":
            return Markup(self.ago % {"t": self.duration(s["left"])})  # noqa: S704 - numbers into our catalogs
        text = self.left[state] % {"t": self.duration(s["left"])}
        return Markup(text + self.missed if s["missed"] else text)  # noqa: S704 - as above


def _display(rows: list[dict]) -> None:
    """Per-row display values, computed here once per page rather than by macros per cell."""
    en = get_locale() == "en"
    statuses = {s: Markup(_(name)) for s, name in STATUS_NAMES.items()}  # noqa: S704 - our catalogs
    priorities = {p: Markup(_(name)) for p, name in PRIORITY_NAMES.items()}  # noqa: S704 - as above
    select = _("Select %(ref)s")
    sla = _SlaText()
    for t in rows:
        due: datetime | None = t["due_at"]
        t["select_label"] = Markup(select % {"ref": escape(t["ref"])})  # noqa: S704 - as above, ref escaped
        t["status_label"] = statuses[t["status"]]
        t["priority_label"] = priorities[t["priority"]]
        t["customer"] = t["requester_name"] or t["requester_email"]
        t["team_label"] = (t["team_name_en"] if en else t["team_name_tr"]) or "—"
        t["assignee_label"] = t["assignee_name"] or "—"
        t["due_iso"] = due.isoformat() if due else ""
        t["due_label"] = format_datetime(due, "short") if due else ""
        t["updated_label"] = format_datetime(t["updated_at"], "short")
        t["sla_html"] = sla(t["sla"])


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


class _Controls:
    """The filter selects and the bulk bar (``staff/_queue_controls.html``) as HTML, rendered
    once per process for each language and selection and reused while the teams and agents
    are the same.

    They are the same for every agent (teams, active agents, labels, the chosen filters; no
    per-user data, no CSRF token), so one agent's page never shows another's data. The cache
    key is the data itself, read fresh from the database on every request (one query with the
    agent's teams): a renamed team or a new agent shows on the next page, on every process.
    """

    MAX = 256  # selections kept per version of the data

    def __init__(self) -> None:
        self.data: tuple | None = None
        self.html: dict[tuple, Markup] = {}

    def __call__(self, request: Request, f: Filters, choices: Choices) -> dict[str, Markup]:
        data = (tuple(tuple(t.values()) for t in choices.teams), tuple(tuple(a.values()) for a in choices.agents))
        if data != self.data:
            self.data, self.html = data, {}
        elif len(self.html) >= self.MAX:
            self.html.clear()
        # The template object is part of the keys: a reloaded template (debug mode) renders anew.
        template = request.app.template_engine.engine.get_template(CONTROLS)  # type: ignore[attr-defined]
        locale = get_locale()
        key = (template, locale, f.status, f.priority, f.team, f.assignee, f.channel)
        selects = self.html.get(key)
        if selects is None:
            selects = self.html[key] = Markup(template.module.filter_selects(  # noqa: S704 - autoescaped output
                f, STATUSES, PRIORITIES, choices.teams, choices.agents, CHANNELS,
                STATUS_NAMES, PRIORITY_NAMES, CHANNEL_NAMES, locale))
        bar = self.html.get((template, locale))
        if bar is None:
            bar = self.html[(template, locale)] = Markup(template.module.bulk_bar(  # noqa: S704 - autoescaped output
                choices.agents, STATUSES, PRIORITIES, STATUS_NAMES, PRIORITY_NAMES))
        return {"filter_selects": selects, "bulk_bar": bar}


controls = _Controls()


async def _page(request: Request, params: dict[str, Any], *, cursor: str | None = None,
                block: str | None = None, report: Any = None, form: Form | None = None,
                status: int = 200) -> Template:
    staff = ctx(request).staff
    choices = await queries.staff_choices(staff["id"])
    me = Actor.staff(staff, choices.team_ids)
    f = _filters(params)
    page = await queue(f, staff_id=me.staff_id, team_ids=set(me.team_ids), now=now(),  # type: ignore[arg-type]
                       tz=services(request).settings.tz, cursor=cursor)
    _display(page.rows)
    return render(request, TEMPLATE, block=block, status=status, filters=f, page=page, qs=_query_string(f),
                  views=VIEWS, sorts=SORTS, statuses=STATUSES, channels=CHANNELS, priorities_all=PRIORITIES,
                  controls=controls(request, f, choices), report=report, reasons=REASONS,
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
