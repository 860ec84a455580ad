"""The SLA report: compliance by team, priority and month, first-response and resolution
medians in business hours, the breaches, and a CSV export.

Read from ``ticket_sla`` (the clock's answer per ticket and target, kept up to date by the
listener) for tickets opened in the period. A finished target is *met* when it was met by
its due time and *breached* otherwise; compliance is met / (met + breached); targets still
running do not count yet. Business hours come from ``elapsed_seconds``, the business time the
clock had counted when the target was met.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from statistics import median
from zoneinfo import ZoneInfo

from portal.sla.service import utc
from portal.sla.tables import TicketSla
from portal.tickets.rules import ref

PERIODS = (1, 3, 6, 12)
CSV_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Period:
    months: int
    start: datetime  # UTC, the first day of the first month (local midnight)
    end: datetime  # UTC, now


def period(months: int | None, now: datetime, tz: ZoneInfo) -> Period:
    months = months if months in PERIODS else 6
    local = now.astimezone(tz)
    year, month = local.year, local.month - (months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    start = datetime.combine(date(year, month, 1), time(), tzinfo=tz)
    return Period(months, start.astimezone(ZoneInfo("UTC")), now)


def outcome(row: dict, now: datetime) -> str:
    """``met``, ``breached`` or ``running``."""
    due, met = utc(row["due_at"]), utc(row["met_at"])
    if row["breached_at"] is not None or (met is not None and due is not None and met > due):
        return "breached"
    if met is not None:
        return "met"
    if due is not None and not row["paused"] and due <= now:
        return "breached"
    return "running"


async def rows(p: Period) -> list[dict]:
    """Every target of the tickets opened in the period, with what the report groups by."""
    data = await TicketSla.select(
        TicketSla.target, TicketSla.due_at, TicketSla.met_at, TicketSla.breached_at, TicketSla.paused,
        TicketSla.elapsed_seconds, TicketSla.ticket.id.as_alias("ticket_id"),
        TicketSla.ticket.number.as_alias("number"), TicketSla.ticket.subject.as_alias("subject"),
        TicketSla.ticket.priority.as_alias("priority"), TicketSla.ticket.created_at.as_alias("created_at"),
        TicketSla.ticket.team.slug.as_alias("team_slug"), TicketSla.ticket.team.name_tr.as_alias("team_name_tr"),
        TicketSla.ticket.team.name_en.as_alias("team_name_en"),
        TicketSla.ticket.assignee.name.as_alias("assignee_name"),
    ).where((TicketSla.ticket.created_at >= p.start) & (TicketSla.ticket.created_at < p.end)).order_by(
        TicketSla.ticket.id).order_by(TicketSla.id)
    for r in data:
        r["ref"] = ref(r["number"])
        r["outcome"] = outcome(r, p.end)
    return data


@dataclass
class Group:
    key: str
    tickets: int
    met: int
    breached: int
    running: int
    first_response_hours: float | None
    resolution_hours: float | None

    @property
    def compliance(self) -> float | None:
        done = self.met + self.breached
        return round(100 * self.met / done, 1) if done else None


def _median_hours(values: list[int]) -> float | None:
    return round(median(values) / 3600, 2) if values else None


def group(data: list[dict], key: Callable[[dict], str]) -> list[Group]:
    buckets: dict[str, list[dict]] = {}
    for r in data:
        buckets.setdefault(key(r), []).append(r)
    out = []
    for name, items in buckets.items():
        met_times = {t: [r["elapsed_seconds"] for r in items if r["target"] == t and r["met_at"] is not None]
                     for t in ("first_response", "resolution")}
        out.append(Group(
            key=name, tickets=len({r["ticket_id"] for r in items}),
            met=sum(r["outcome"] == "met" for r in items), breached=sum(r["outcome"] == "breached" for r in items),
            running=sum(r["outcome"] == "running" for r in items),
            first_response_hours=_median_hours(met_times["first_response"]),
            resolution_hours=_median_hours(met_times["resolution"])))
    return sorted(out, key=lambda g: g.key)


def month_of(tz: ZoneInfo) -> Callable[[dict], str]:
    return lambda r: r["created_at"].astimezone(tz).strftime("%Y-%m")


def team_of(locale: str) -> Callable[[dict], str]:
    return lambda r: (r["team_name_en"] if locale == "en" else r["team_name_tr"]) or "—"


def breaches(data: list[dict], limit: int = 200) -> list[dict]:
    found = [r for r in data if r["outcome"] == "breached"]
    return sorted(found, key=lambda r: utc(r["due_at"]) or r["created_at"], reverse=True)[:limit]


# --- CSV ----------------------------------------------------------------------------------------

def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ tab or CR (a formula, or
    the start of one) gets a leading ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_DANGEROUS) else text


def to_csv(header: list[str], data: Iterable[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in data:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()


CSV_HEADER = ["ticket", "subject", "team", "priority", "opened_at", "target", "due_at", "met_at", "outcome",
              "business_hours"]


def csv_rows(data: list[dict]) -> Iterable[list[object]]:
    for r in data:
        due, met = utc(r["due_at"]), utc(r["met_at"])
        yield [r["ref"], r["subject"], r["team_slug"] or "", r["priority"], r["created_at"].isoformat(), r["target"],
               due.isoformat() if due else "", met.isoformat() if met else "", r["outcome"],
               round(r["elapsed_seconds"] / 3600, 2)]
