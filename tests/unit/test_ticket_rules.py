"""Ticket rules without a database: transitions, references, text rendering, placeholders,
attachment checks, queue cursors and the SLA summary."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.tickets import files, text
from portal.tickets.present import sla_targets
from portal.tickets.queue import decode_cursor, encode_cursor
from portal.tickets.rules import (
    STATUSES,
    TRANSITIONS,
    Actor,
    can_transition,
    may_change,
    parse_ref,
    ref,
    status_after_customer_reply,
)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_closed_is_final_and_solved_only_closes_or_reopens():
    assert TRANSITIONS["closed"] == frozenset()
    assert TRANSITIONS["solved"] == {"open", "closed"}
    assert not can_transition("new", "closed") and not can_transition("closed", "open")
    assert all(can_transition(s, s) for s in STATUSES)
    assert all(target in STATUSES for targets in TRANSITIONS.values() for target in targets)
    assert status_after_customer_reply("pending") == "open"
    assert status_after_customer_reply("new") == "new" and status_after_customer_reply("closed") == "closed"


def test_references():
    assert ref(1042) == "T-1042"
    assert parse_ref("T-1042") == parse_ref("t1042") == parse_ref(" T-1042 ") == 1042
    assert parse_ref("1042") is None and parse_ref("T-") is None and parse_ref("T-1;DROP") is None


def test_who_may_change():
    ticket = {"team": 2, "assignee": None}
    agent = Actor("staff", "A", staff_id=1, role="agent", team_ids=frozenset({1}))
    assert not may_change(agent, ticket)
    assert may_change(agent, {"team": None, "assignee": None})
    assert may_change(agent, {"team": 2, "assignee": 1})
    assert may_change(Actor("staff", "L", staff_id=9, role="lead"), ticket)
    assert may_change(Actor.api({"name": "crm"}), ticket)
    assert not may_change(Actor("customer", "C", customer_id=1), ticket)


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "[x](javascript:alert(1))",
    "javascript:alert(1)", '"><svg onload=alert(1)>', "https://x.test/\"onmouseover=\"alert(1)",
])
def test_body_html_is_inert(hostile):
    html = str(text.body_html(hostile))
    assert "<script" not in html and "<img" not in html and "<svg" not in html
    assert 'href="javascript' not in html and "onmouseover=\"" not in html


_OWN_MARKUP = re.compile(r'<a href="https?://[^"<>]*" rel="noopener noreferrer nofollow ugc" '
                         r'target="_blank">|</a>|<br>')


@given(st.text(max_size=300))
def test_body_html_makes_no_markup_but_http_links_and_line_breaks(value):
    html = str(text.body_html(value))
    assert "<" not in _OWN_MARKUP.sub("", html)


def test_links_keep_their_query_and_drop_trailing_punctuation():
    html = str(text.body_html("bak: https://ornek.com/a?b=1&c=(2). Tamam"))
    assert 'href="https://ornek.com/a?b=1&amp;c=(2)"' in html and "</a>. Tamam" in html
    assert str(text.body_html("a\nb")) == "a<br>\nb"


def test_placeholders_are_replaced_once_and_nothing_else_is_interpreted():
    body = "Merhaba {{ customer_name }}, {{order_number}} {{ 7*7 }} {% if x %}"
    out = text.fill_placeholders(body, customer_name="{{ order_number }}", order_number="SP-1")
    assert out == "Merhaba {{ order_number }}, SP-1 {{ 7*7 }} {% if x %}"


@pytest.mark.parametrize(("name", "data", "code"), [
    ("a.png", b"GIF89a....", "type"),
    ("a.html", b"<html>", "type"),
    ("a.svg", b"<svg/>", "type"),
    ("a.txt", b"<script>alert(1)</script>", "type"),
    ("a.txt", b"\x00\x01", "type"),
    ("a", b"%PDF-1.4", "type"),
    ("a.pdf", b"", "empty"),
])
def test_attachments_that_are_refused(name, data, code):
    with pytest.raises(files.AttachmentRefused) as exc:
        files.check(files.Upload(name, data))
    assert exc.value.code == code


def test_attachment_names_and_downloads():
    checked = files.check(files.Upload("..\\..\\Fatura Şubat;rm -rf.PDF", b"%PDF-1.7"))
    assert checked.filename == "Fatura Şubat_rm -rf.PDF" and checked.content_type == "application/pdf"
    disposition = files.content_disposition("Fatura Şubat.pdf")
    assert disposition.startswith('attachment; filename="Fatura Subat.pdf"')
    assert "filename*=UTF-8''Fatura%20%C5%9Eubat.pdf" in disposition
    with pytest.raises(files.AttachmentRefused):
        files.check_all([files.Upload(f"{i}.txt", b"x") for i in range(files.MAX_FILES + 1)])
    with pytest.raises(ValueError):
        files.Storage(__import__("pathlib").Path("/tmp")).path("../etc/passwd")


def test_queue_cursors_round_trip_and_refuse_junk():
    row = {"id": 7, "due_at": T0, "updated_at": T0}
    assert decode_cursor(encode_cursor(row, "due"), "due") == (T0, 7)
    assert decode_cursor(encode_cursor({**row, "due_at": None}, "due"), "due") == (None, 7)
    assert decode_cursor(encode_cursor(row, "newest"), "newest") == (None, 7)
    assert decode_cursor(encode_cursor(row, "due"), "newest") is None
    assert decode_cursor("%%%", "due") is None and decode_cursor("", "due") is None


def test_sla_summary_from_the_columns():
    ticket = {"first_response_due_at": T0, "first_response_at": T0 + timedelta(minutes=5),
              "resolution_due_at": T0 + timedelta(hours=8), "solved_at": None,
              "next_response_due_at": None, "next_response_met_at": None, "sla_paused_at": None}
    state = sla_targets(ticket, T0 + timedelta(hours=9))
    assert state["first_response"]["breached"] is True
    assert state["resolution"]["breached"] is True and state["resolution"]["met_at"] is None
    assert state["next_response"] == {"due_at": None, "met_at": None, "breached": False, "paused": False}
    paused = sla_targets({**ticket, "sla_paused_at": T0}, T0 + timedelta(hours=9))
    assert paused["resolution"]["paused"] is True and paused["resolution"]["breached"] is False
