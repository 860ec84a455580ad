"""The satisfaction arithmetic on known data: CSAT, NPS, response rate, trends, CSV cells, charts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from portal.surveys import results
from portal.surveys.service import CHANGE_WINDOW, state

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


def _row(kind: str, score: int | None, *, sent: bool = True, answered: bool = True, survey: int | None = None,
         at: datetime = T, agent: int | None = 1) -> dict:
    return {"kind": kind, "score": score if answered else None, "sent_at": at if sent else None,
            "answered_at": at if answered else None, "survey": survey, "created_at": at, "agent": agent,
            "team": 1}


def test_csat_is_the_share_of_fours_and_fives():
    rows = [_row("csat", s) for s in (5, 4, 4, 3, 1)] + [_row("csat", None, answered=False)] * 5
    fig = results.summarize(rows, set())
    assert (fig.csat_n, fig.csat_good, fig.csat) == (5, 3, 60.0)
    assert (fig.mailed, fig.answered_mailed, fig.response_rate) == (10, 5, 50.0)


def test_nps_is_promoters_minus_detractors_on_nps_surveys_only():
    scores = [10, 9, 9, 8, 7, 6, 0, 3, 10, 10]  # 5 promoters, 2 passives, 3 detractors
    rows = [_row("campaign", s, survey=7) for s in scores] + [_row("campaign", 1, survey=8)]
    fig = results.summarize(rows, {7})
    assert (fig.nps_n, fig.promoters, fig.detractors, fig.nps) == (10, 5, 3, 20.0)
    assert results.summarize([_row("campaign", 0, survey=7)], {7}).nps == -100.0
    assert results.summarize([], {7}).nps is None and results.summarize([], set()).csat is None


def test_response_rate_counts_mailed_requests_only():
    rows = [_row("csat", 5, sent=False), _row("csat", 4), _row("csat", None, answered=False)]
    fig = results.summarize(rows, set())
    assert (fig.mailed, fig.answered_mailed, fig.response_rate, fig.answered) == (2, 1, 50.0, 2)


def test_trend_by_week_and_month_and_breakdown():
    later = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    rows = [_row("csat", 5), _row("csat", 1), _row("csat", 4, at=later, agent=2)]
    weeks = results.trend(rows, set(), by="week")
    assert [(k, f.csat) for k, f in weeks] == [("2026-W45", 50.0), ("2026-W51", 100.0)]
    months = results.trend(rows, set(), by="month")
    assert [(k, f.csat_n) for k, f in months] == [("2026-11", 2), ("2026-12", 1)]
    by_agent = results.breakdown(rows, set(), field="agent", names={1: "Mert", 2: "Ayşe"})
    assert [(k, f.csat) for k, f in by_agent] == [("Ayşe", 100.0), ("Mert", 50.0)]


def test_csv_cells_cannot_become_formulas():
    dangerous = ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
    text = results.to_csv(["a"], [[v] for v in dangerous] + [["güzel, \"iyi\""], [None], [5]])
    cells = [r[0] for r in csv.reader(io.StringIO(text))]
    assert cells[1:7] == ["'" + v for v in dangerous]
    assert cells[7:] == ['güzel, "iyi"', "", "5"]


def test_chart_is_readable_without_colour():
    svg = str(results.bar_chart([("2026-11", 80.0, 10), ("2026-12", None, 0), ("<x>", -20.0, 3)],
                                title="CSAT & NPS", low=-100, high=100))
    assert svg.startswith("<svg") and "<title" in svg and "CSAT &amp; NPS" in svg
    assert ">80<" in svg and "2026-12: no answers" in svg and "&lt;x&gt;" in svg and "<x>" not in svg
    assert 'class="bar low"' in svg  # negative values are hatched, not just coloured


def test_answer_windows():
    req = {"answered_at": None, "expires_at": T}
    assert state(req, T.replace(hour=8)) == "open" and state(req, T) == "expired"
    answered = {"answered_at": T, "expires_at": T}
    assert state(answered, T + CHANGE_WINDOW - (T - T.replace(hour=8))) == "changeable"
    assert state(answered, T + CHANGE_WINDOW) == "final"
