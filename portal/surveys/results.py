"""The satisfaction figures: CSAT, NPS and response rate, by week, month, agent and team.

Definitions (docs/surveys.md):

- **CSAT** = answers scoring 4 or 5 ÷ all CSAT answers, in percent.
- **NPS** = % promoters (9-10) − % detractors (0-6) among answers to NPS surveys.
- **Response rate** = answered ÷ mailed (``sent_at`` set), in percent.

A request counts in the period it was created (asked). The arithmetic is pure functions of
rows (:func:`summarize`, :func:`trend`, :func:`breakdown`), tested on known data.
"""

from __future__ import annotations

import csv
import io
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

from portal.accounts.tables import StaffUser, Team
from portal.i18n import to_local
from portal.surveys.tables import Question, SurveyRequest
from portal.tickets.rules import ref

CSV_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Figures:
    asked: int = 0
    mailed: int = 0
    answered: int = 0
    answered_mailed: int = 0
    csat_n: int = 0
    csat_good: int = 0
    nps_n: int = 0
    promoters: int = 0
    detractors: int = 0

    @property
    def csat(self) -> float | None:
        return round(100 * self.csat_good / self.csat_n, 1) if self.csat_n else None

    @property
    def nps(self) -> float | None:
        return round(100 * (self.promoters - self.detractors) / self.nps_n, 1) if self.nps_n else None

    @property
    def response_rate(self) -> float | None:
        return round(100 * self.answered_mailed / self.mailed, 1) if self.mailed else None


def summarize(rows: Iterable[dict], nps_surveys: set[int]) -> Figures:
    """``rows``: requests with ``kind``, ``survey``, ``sent_at``, ``answered_at``, ``score``."""
    asked = mailed = answered = answered_mailed = csat_n = csat_good = nps_n = promoters = detractors = 0
    for r in rows:
        asked += 1
        is_answered = r["answered_at"] is not None
        if r["sent_at"] is not None:
            mailed += 1
            answered_mailed += is_answered
        if not is_answered:
            continue
        answered += 1
        score = r["score"]
        if score is None:
            continue
        if r["kind"] == "csat":
            csat_n += 1
            csat_good += score >= 4
        elif r["survey"] in nps_surveys:
            nps_n += 1
            promoters += score >= 9
            detractors += score <= 6
    return Figures(asked, mailed, answered, answered_mailed, csat_n, csat_good, nps_n, promoters, detractors)


def week_of(value: datetime) -> str:
    year, week, _ = to_local(value).isocalendar()
    return f"{year}-W{week:02d}"


def month_of(value: datetime) -> str:
    return to_local(value).strftime("%Y-%m")


def trend(rows: list[dict], nps_surveys: set[int], *, by: str) -> list[tuple[str, Figures]]:
    """Figures per ISO week (``by="week"``) or month, oldest first."""
    key: Callable[[datetime], str] = week_of if by == "week" else month_of
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(key(r["created_at"]), []).append(r)
    return [(k, summarize(groups[k], nps_surveys)) for k in sorted(groups)]


def breakdown(rows: list[dict], nps_surveys: set[int], *, field: str,
              names: dict[int, str]) -> list[tuple[str, Figures]]:
    groups: OrderedDict[int | None, list[dict]] = OrderedDict()
    for r in rows:
        groups.setdefault(r[field], []).append(r)
    out = [(names.get(k, "—") if k is not None else "—", summarize(v, nps_surveys)) for k, v in groups.items()]
    return sorted(out, key=lambda item: item[0].casefold())


# --- reading ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    agent: int | None = None
    team: int | None = None


def _bounds(filters: Filters) -> tuple[datetime, datetime]:
    from zoneinfo import ZoneInfo

    from portal.i18n import _timezone

    tz = ZoneInfo(_timezone.get())
    start = datetime.combine(filters.start, datetime.min.time(), tz)
    end = datetime.combine(filters.end + timedelta(days=1), datetime.min.time(), tz)
    return start, end


async def rows(filters: Filters) -> list[dict]:
    start, end = _bounds(filters)
    where = (SurveyRequest.created_at >= start) & (SurveyRequest.created_at < end)
    if filters.agent is not None:
        where &= SurveyRequest.agent == filters.agent
    if filters.team is not None:
        where &= SurveyRequest.team == filters.team
    return await SurveyRequest.select(
        SurveyRequest.id, SurveyRequest.kind, SurveyRequest.survey, SurveyRequest.sent_at,
        SurveyRequest.answered_at, SurveyRequest.score, SurveyRequest.agent, SurveyRequest.team,
        SurveyRequest.created_at).where(where)


async def nps_surveys() -> set[int]:
    return set(await Question.select(Question.survey).where(Question.kind == "nps").distinct().output(
        as_list=True))


async def names() -> tuple[dict[int, str], dict[int, str]]:
    from portal.i18n import get_locale

    agents = {r["id"]: r["name"] for r in await StaffUser.select(StaffUser.id, StaffUser.name)}
    col = "name_en" if get_locale() == "en" else "name_tr"
    teams = {r["id"]: r[col] for r in await Team.select(Team.id, Team.name_tr, Team.name_en)}
    return agents, teams


async def answers(filters: Filters, *, with_comment: bool = False, limit: int | None = None) -> list[dict]:
    """Answered requests of the period, newest first, with ticket, agent, team and survey."""
    start, end = _bounds(filters)
    where = (SurveyRequest.created_at >= start) & (SurveyRequest.created_at < end) & \
        SurveyRequest.answered_at.is_not_null()
    if filters.agent is not None:
        where &= SurveyRequest.agent == filters.agent
    if filters.team is not None:
        where &= SurveyRequest.team == filters.team
    if with_comment:
        where &= SurveyRequest.comment != ""
    query = SurveyRequest.select(
        SurveyRequest.id, SurveyRequest.kind, SurveyRequest.score, SurveyRequest.comment,
        SurveyRequest.answered_at, SurveyRequest.ticket.number.as_alias("ticket_number"),
        SurveyRequest.agent.name.as_alias("agent_name"), SurveyRequest.team.name_tr.as_alias("team_tr"),
        SurveyRequest.team.name_en.as_alias("team_en"), SurveyRequest.survey.title_tr.as_alias("survey_tr"),
        SurveyRequest.survey.title_en.as_alias("survey_en"),
    ).where(where).order_by(SurveyRequest.answered_at, ascending=False)
    if limit:
        query = query.limit(limit)
    out = await query
    for r in out:
        r["ticket_ref"] = ref(r["ticket_number"]) if r["ticket_number"] else None
    return out


async def of_customer(customer_id: int, *, limit: int = 50) -> list[dict]:
    """A customer's survey answers, newest first (the staff customer page)."""
    out = await SurveyRequest.select(
        SurveyRequest.id, SurveyRequest.kind, SurveyRequest.score, SurveyRequest.comment,
        SurveyRequest.answered_at, SurveyRequest.sent_at, SurveyRequest.ticket.number.as_alias("ticket_number"),
        SurveyRequest.survey.title_tr.as_alias("survey_tr"), SurveyRequest.survey.title_en.as_alias("survey_en"),
    ).where((SurveyRequest.customer == customer_id) & SurveyRequest.answered_at.is_not_null()).order_by(
        SurveyRequest.answered_at, ascending=False).limit(limit)
    for r in out:
        r["ticket_ref"] = ref(r["ticket_number"]) if r["ticket_number"] else None
    return out


async def of_ticket(ticket_id: int) -> dict | None:
    """The ticket's CSAT request (answered or not), for the staff ticket page."""
    return await SurveyRequest.select(
        SurveyRequest.score, SurveyRequest.comment, SurveyRequest.answered_at, SurveyRequest.sent_at,
        SurveyRequest.changed_at, SurveyRequest.agent.name.as_alias("agent_name"),
    ).where(SurveyRequest.ticket == ticket_id).first()


# --- CSV ----------------------------------------------------------------------------------------

def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ tab or CR gets a ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_DANGEROUS) else text


def to_csv(header: list[str], data: Iterable[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in data:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


# --- charts -------------------------------------------------------------------------------------

def bar_chart(points: list[tuple[str, float | None, int]], *, title: str, unit: str = "%",
              low: float = 0, high: float = 100, chart_id: str = "chart") -> Markup:
    """A server-rendered SVG bar chart, readable without colour: each bar carries its value
    as text and a ``<title>``; empty periods say "no answers"; negative values (NPS) are
    hatched below a zero line. ``points``: (label, value or None, number of answers)."""
    width, height, pad_l, pad_b, pad_t = max(320, 60 * len(points) + 50), 220, 40, 40, 20
    plot_h = height - pad_b - pad_t
    span = (high - low) or 1

    def y(v: float) -> float:
        return pad_t + plot_h * (high - v) / span

    zero = y(max(low, min(high, 0)))
    step = (width - pad_l - 10) / max(1, len(points))
    parts = [f'<svg class="chart" role="img" aria-labelledby="{chart_id}-t" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{chart_id}-t">{escape(title)}</title>',
             '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="none"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="currentColor" stroke-width="3"/></pattern></defs>',
             f'<line class="axis" x1="{pad_l}" y1="{zero:.1f}" x2="{width - 10}" y2="{zero:.1f}"/>',
             f'<text x="4" y="{y(high) + 4:.1f}">{high:g}{escape(unit)}</text>',
             f'<text x="4" y="{y(low) + 4:.1f}">{low:g}{escape(unit)}</text>']
    for i, (label, value, n) in enumerate(points):
        x = pad_l + i * step + step * 0.15
        w = step * 0.7
        cx = x + w / 2
        if value is None:
            parts.append(f'<text x="{cx:.1f}" y="{zero - 4:.1f}" text-anchor="middle">–</text>')
            desc = f"{label}: no answers"
        else:
            top, bottom = (y(value), zero) if value >= 0 else (zero, y(value))
            cls = "bar" if value >= 0 else "bar low"
            parts.append(f'<rect class="{cls}" x="{x:.1f}" y="{top:.1f}" width="{w:.1f}" '
                         f'height="{max(bottom - top, 1):.1f}"><title>{escape(label)}: {value:g}{escape(unit)} '
                         f'(n={n})</title></rect>')
            ty = top - 4 if value >= 0 else bottom + 14
            parts.append(f'<text x="{cx:.1f}" y="{ty:.1f}" text-anchor="middle">{value:g}</text>')
            desc = f"{label}: {value:g}{unit}"
        parts.append(f'<text x="{cx:.1f}" y="{height - pad_b + 16}" text-anchor="middle">{escape(label)}</text>')
        parts.append(f'<desc>{escape(desc)}</desc>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text part above went through escape()
