"""The SLA report's pure parts: CSV cells that cannot become formulas, the period, outcomes,
grouping with medians; and the policy matching."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from portal.sla import report
from portal.sla.service import Facts, choose, matches

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_csv_cells_never_start_a_formula():
    for risky in ("=1+1", "+90 555", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert report.csv_cell(risky) == "'" + risky
    assert report.csv_cell("Kargo =gecikti") == "Kargo =gecikti"
    assert report.csv_cell(None) == "" and report.csv_cell(3.5) == "3.5"
    text = report.to_csv(["a", "b"], [["=cmd|' /C calc'!A0", "İade, \"hızlı\""]])
    assert list(csv.reader(io.StringIO(text))) == [["a", "b"], ["'=cmd|' /C calc'!A0", "İade, \"hızlı\""]]


def test_period_starts_on_the_first_of_a_month_in_istanbul():
    ist = ZoneInfo("Europe/Istanbul")
    p = report.period(3, NOW, ist)
    assert p.start == datetime(2026, 9, 1, tzinfo=ist) and p.end == NOW
    assert report.period(99, NOW, ist).months == 6
    assert report.period(12, NOW, ist).start == datetime(2025, 12, 1, tzinfo=ist)


def _row(**kw):
    base = {"due_at": NOW, "met_at": None, "breached_at": None, "paused": False}
    return {**base, **kw}


def test_outcomes():
    assert report.outcome(_row(met_at=NOW - timedelta(minutes=1)), NOW) == "met"
    assert report.outcome(_row(met_at=NOW + timedelta(minutes=1)), NOW) == "breached"
    assert report.outcome(_row(due_at=NOW + timedelta(hours=1)), NOW) == "running"
    assert report.outcome(_row(), NOW) == "breached"
    assert report.outcome(_row(paused=True), NOW) == "running"
    assert report.outcome(_row(breached_at=NOW, due_at=NOW + timedelta(hours=1)), NOW) == "breached"


def test_groups_with_compliance_and_medians():
    def r(ticket, target, met, seconds, outcome):
        return {"ticket_id": ticket, "target": target, "met_at": met, "elapsed_seconds": seconds,
                "outcome": outcome, "k": "a"}

    rows = [r(1, "first_response", NOW, 1800, "met"), r(2, "first_response", NOW, 5400, "breached"),
            r(3, "first_response", NOW, 3600, "met"), r(3, "resolution", None, 100, "running")]
    (g,) = report.group(rows, lambda r: r["k"])
    assert (g.tickets, g.met, g.breached, g.running) == (3, 2, 1, 1)
    assert g.compliance == 66.7 and g.first_response_hours == 1.0 and g.resolution_hours is None


def test_policy_matching_in_order():
    policies = [
        {"id": 1, "active": False, "priorities": "", "team_ids": "", "form_slugs": "", "channels": "", "segments": ""},
        {"id": 2, "active": True, "priorities": "urgent,high", "team_ids": "3", "form_slugs": "", "channels": "",
         "segments": ""},
        {"id": 3, "active": True, "priorities": "", "team_ids": "", "form_slugs": "iade", "channels": "form",
         "segments": ""},
        {"id": 4, "active": True, "priorities": "", "team_ids": "", "form_slugs": "", "channels": "",
         "segments": "champions"},
        {"id": 5, "active": True, "priorities": "", "team_ids": "", "form_slugs": "", "channels": "", "segments": ""},
    ]
    assert choose(policies, Facts("urgent", 3, None, "portal", None))["id"] == 2
    assert choose(policies, Facts("urgent", 4, None, "portal", None))["id"] == 5
    assert choose(policies, Facts("normal", None, "iade", "form", None))["id"] == 3
    assert choose(policies, Facts("normal", None, None, "email", "champions"))["id"] == 4
    assert not matches(policies[3], Facts("normal", None, None, "email", None))
    assert choose(policies[:1], Facts("normal", None, None, "email", None)) is None
