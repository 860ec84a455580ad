"""/staff/reports (leads and admins): the report sections, and /staff/reports/sla.

The index lists only report pages that are registered (like the dashboard's sections), so
it never links to a page that does not exist. The SLA figures come from ``portal.sla.report``.
"""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.response import Template

from portal.auth import LEAD
from portal.clock import now
from portal.i18n import _
from portal.sla import report
from portal.tickets.rules import PRIORITIES, PRIORITY_NAMES
from portal.web import ctx, parse_int, render, services


def _sections() -> list[tuple[str, str, str]]:
    return [
        ("/staff/reports/sla", _("Service levels (SLA)"),
         _("Targets met and missed by team, priority and month; response and resolution times.")),
        ("/staff/reports/satisfaction", _("Satisfaction"), _("CSAT and NPS answers and comments.")),
        ("/staff/reports/deflection", _("Self-service"), _("Requests answered by the knowledge base.")),
    ]


def available_sections(request: Request) -> list[tuple[str, str, str]]:
    handlers = request.app.route_handler_method_map
    return [s for s in _sections() if handlers.get(s[0], {}).get("GET") is not None]


@get("/staff/reports", opt=LEAD, include_in_schema=False)
async def reports_index(request: Request) -> Template:
    return render(request, "staff/reports/index.html", sections=available_sections(request))


def _months(value: str | None) -> int | None:
    return parse_int(value)


@get("/staff/reports/sla", opt=LEAD, include_in_schema=False)
async def sla_report(request: Request, months: str | None = None) -> Template:
    tz = services(request).settings.tz
    p = report.period(_months(months), now(), tz)
    data = await report.rows(p)
    priority_order = {p: i for i, p in enumerate(PRIORITIES)}
    by_priority = sorted(report.group(data, lambda r: r["priority"]), key=lambda g: priority_order.get(g.key, 9))
    return render(request, "staff/reports/sla.html", period=p, periods=report.PERIODS, total=report.group(
        data, lambda r: "all"), by_team=report.group(data, report.team_of(ctx(request).locale)),
        by_priority=by_priority, by_month=report.group(data, report.month_of(tz)),
        breaches=report.breaches(data), priority_names=PRIORITY_NAMES)


@get("/staff/reports/sla.csv", opt=LEAD, include_in_schema=False)
async def sla_csv(request: Request, months: str | None = None) -> Response:
    p = report.period(_months(months), now(), services(request).settings.tz)
    body = report.to_csv(report.CSV_HEADER, report.csv_rows(await report.rows(p)))
    name = f"sla-{p.start.date().isoformat()}-{p.end.date().isoformat()}.csv"
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


ROUTES = [reports_index, sla_report, sla_csv]
