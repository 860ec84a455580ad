"""SLA pages: business hours and policies (admins), the queue's time left and "breaching
soon" view, the ticket page's targets, the API's ``sla`` object, and the SLA report with its
CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts import service as accounts
from portal.clock import now
from portal.sla import admin
from portal.sla import service as sla
from portal.sla.tables import BusinessCalendar, CalendarClosure, SlaPolicy, TicketSla
from portal.tickets import service
from portal.tickets.rules import Actor
from portal.tickets.tables import Ticket
from tests.conftest import staff_login as _staff_login

WEEK = {"mon": "09:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00", "thu": "09:00-18:00",
        "fri": "09:00-18:00", "sat": "", "sun": ""}


@pytest.fixture
async def always(client) -> int:
    """A 24/7 calendar (no holidays) and a policy on it: due times follow the wall clock."""
    await sla.ensure_default_calendar(now=now())
    calendar_id = await admin.save_calendar(None, {"name": "7/24", "timezone": "Europe/Istanbul",
                                                   "always_open": True, "public_holidays": False, **WEEK}, now=now())
    await admin.save_policy(None, {
        "name": "Herkes", "active": True, "priorities": "", "team_ids": "", "form_slugs": "", "channels": "",
        "segments": "", "first_response_minutes": 60, "next_response_minutes": None, "resolution_minutes": 130,
        "warn_percent": 80, "pause_on_hold": False, "calendar": calendar_id}, now=now())
    return calendar_id


async def staff_login(client, who) -> None:
    """Log in with English pages: the assertions read the English wording."""
    from portal.accounts.tables import StaffUser

    await StaffUser.update({StaffUser.locale: "en"}).where(StaffUser.id == who.id)
    await _staff_login(client, who)


def agent(persona) -> Actor:
    return Actor.staff({"id": persona.id, "name": persona.name, "role": persona.role})


async def _open(subject: str, opened: datetime) -> dict:
    customer = await accounts.find_or_create_customer("ayse@example.com", name="Ayşe", now=opened)
    new = service.NewTicket(subject=subject, body="...", requester_id=customer["id"], notify_requester=False)
    return (await service.open_ticket(new, actor=Actor.customer(customer), now=opened)).ticket


# --- calendars ------------------------------------------------------------------------------------

async def test_calendars_are_for_admins(client, carol, erin):
    await staff_login(client, carol)
    assert (await client.get("/staff/settings/business-hours")).status_code == 403
    assert (await client.get("/staff/settings/sla")).status_code == 403


async def test_create_a_calendar_and_refuse_bad_hours(client, dave):
    await sla.ensure_default_calendar(now=now())
    await staff_login(client, dave)
    page = await client.get("/staff/settings/business-hours")
    assert page.status_code == 200 and "Mesai saatleri" in page.text
    bad = await client.post_form("/staff/settings/business-hours", {
        "name": "Vardiya", "timezone": "Mars/Olympus", "public_holidays": "1", **WEEK, "mon": "9-18"})
    assert bad.status_code == 422
    assert "Unknown time zone" in bad.text and "Cannot read" in bad.text
    closed = await client.post_form("/staff/settings/business-hours", {
        "name": "Boş", "timezone": "Europe/Istanbul", **{k: "" for k in WEEK}})
    assert closed.status_code == 422 and "at least one day" in closed.text
    ok = await client.post_form("/staff/settings/business-hours", {
        "name": "Vardiya", "timezone": "Europe/Berlin", "public_holidays": "1", **WEEK,
        "mon": "09:00-12:00,13:00-18:00"})
    assert ok.status_code == 303
    row = await BusinessCalendar.select().where(BusinessCalendar.name == "Vardiya").first()
    assert row["mon"] == "09:00-12:00, 13:00-18:00" and row["timezone"] == "Europe/Berlin"
    assert ok.headers["location"] == f"/staff/settings/business-hours/{row['id']}"
    detail = await client.get(ok.headers["location"])
    assert detail.status_code == 200 and "half day" in detail.text  # the public holidays are listed


async def test_closed_days_and_the_default_calendar_stays(client, dave):
    calendar_id = await sla.ensure_default_calendar(now=now())
    await staff_login(client, dave)
    url = f"/staff/settings/business-hours/{calendar_id}"
    bad = await client.post_form(f"{url}/closures", {"closure_name": "Sayım", "starts": "2026-12-31",
                                                     "ends": "2026-12-30"})
    assert bad.status_code == 422 and "must come after" in bad.text
    unreadable = await client.post_form(f"{url}/closures", {"starts": "31.12.2026", "ends": "2026-12-31"})
    assert unreadable.status_code == 422
    ok = await client.post_form(f"{url}/closures", {"closure_name": "Sayım", "starts": "2026-12-31",
                                                    "ends": "2026-12-31"}, htmx=True)
    assert ok.status_code == 200 and "Sayım" in ok.text
    closure = await CalendarClosure.select().first()
    assert closure["starts_at"] == datetime(2026, 12, 30, 21, 0, tzinfo=UTC)  # Istanbul midnight
    assert closure["ends_at"] == datetime(2026, 12, 31, 21, 0, tzinfo=UTC)
    refused = await client.post_form(f"{url}/delete")
    assert refused.status_code == 422
    assert (await client.post_form(f"{url}/closures/{closure['id']}/delete")).status_code == 303
    assert await CalendarClosure.count() == 0
    assert (await client.get("/staff/settings/business-hours/9999")).status_code == 404


# --- policies -------------------------------------------------------------------------------------

async def test_create_edit_order_and_delete_policies(client, dave):
    calendar_id = await sla.ensure_default_calendar(now=now())
    await staff_login(client, dave)
    assert (await client.get("/staff/settings/sla")).status_code == 200
    bad = await client.post_form("/staff/settings/sla", {"name": "Boş", "calendar": str(calendar_id),
                                                         "warn_percent": "150", "first_response_minutes": "abc"})
    assert bad.status_code == 422
    assert "whole number of minutes" in bad.text and "percentage" in bad.text
    none = await client.post_form("/staff/settings/sla", {"name": "Boş", "calendar": str(calendar_id),
                                                          "warn_percent": "80"})
    assert none.status_code == 422 and "at least one target" in none.text
    wrong = await client.post_form("/staff/settings/sla", {"name": "X", "calendar": str(calendar_id),
                                                           "warn_percent": "80", "priorities": "asap",
                                                           "first_response_minutes": "60"})
    assert wrong.status_code == 422
    from portal.accounts.tables import Team

    destek = await Team.select(Team.id).where(Team.slug == "destek").first()
    for name, prio in (("Acil", "urgent"), ("VIP", "")):
        ok = await client.post_form("/staff/settings/sla", {
            "name": name, "active": "1", "calendar": str(calendar_id), "warn_percent": "80",
            "priorities": prio, "segments": "champions" if name == "VIP" else "", "first_response_minutes": "30",
            "resolution_minutes": "240", "pause_on_hold": "1", "team_ids": str(destek["id"]) if prio else ""})
        assert ok.status_code == 303, ok.text
    listed = await client.get("/staff/settings/sla")
    assert "teams: destek" in listed.text and "segment: champions" in listed.text
    rows = await SlaPolicy.select().order_by(SlaPolicy.position)
    assert [r["name"] for r in rows] == ["Acil", "VIP"] and rows[1]["segments"] == "champions"
    moved = await client.post_form(f"/staff/settings/sla/{rows[1]['id']}/move", {"direction": "up"}, htmx=True)
    assert moved.status_code == 200
    assert [r["name"] for r in await SlaPolicy.select().order_by(SlaPolicy.position)] == ["VIP", "Acil"]
    edit = await client.get(f"/staff/settings/sla/{rows[0]['id']}")
    assert edit.status_code == 200 and 'value="urgent" checked' in edit.text
    saved = await client.post_form(f"/staff/settings/sla/{rows[0]['id']}", {
        "name": "Acil!", "active": "1", "calendar": str(calendar_id), "warn_percent": "90",
        "priorities": ["urgent", "high"], "first_response_minutes": "15"})
    assert saved.status_code == 303
    again = await SlaPolicy.select().where(SlaPolicy.id == rows[0]["id"]).first()
    assert (again["name"], again["priorities"], again["warn_percent"]) == ("Acil!", "urgent,high", 90)
    assert (await client.post_form(f"/staff/settings/sla/{rows[0]['id']}/delete")).status_code == 303
    assert await SlaPolicy.count() == 1
    assert (await client.post_form("/staff/settings/sla/9999/delete")).status_code == 404


# --- the queue, the ticket page, the API --------------------------------------------------------

async def test_queue_rows_say_the_time_left_and_breaching_soon(client, carol, always):
    t = now()
    await _open("Bol zaman", t + timedelta(seconds=30))  # first response due in 60 min
    await _open("Acele", t - timedelta(minutes=50))  # past 80%: due in 10 min
    late = await _open("Geç", t - timedelta(minutes=95))  # first response breached 35 min ago
    pending = await _open("Bekliyor", t - timedelta(minutes=5))
    await Ticket.update({Ticket.assignee: carol.id}).where(Ticket.id == pending["id"])
    from portal.tickets import changes

    await changes.update(pending["id"], {"status": "pending"}, actor=Actor.system(), now=t - timedelta(minutes=1))
    await staff_login(client, carol)
    page = await client.get("/staff/queue")
    assert page.status_code == 200
    assert "59 min left" in page.text or "1 h 0 min left" in page.text
    assert re.search(r"breached 3[56] min ago", page.text)  # 35, or 36 on a very slow run
    assert 'class="sla sla-breached"' in page.text and 'class="sla sla-paused"' in page.text
    soon = await client.get("/staff/queue?view=breaching_soon")
    assert "Acele" in soon.text
    assert "Bol zaman" not in soon.text and "Geç" not in soon.text and "Bekliyor" not in soon.text
    assert late["due_at"] is not None


async def test_ticket_page_and_api_show_the_targets(client, carol, always):
    t = now()
    ticket = await _open("Geç", t - timedelta(minutes=95))
    await service.reply_as_staff(ticket["id"], agent(carol), "Merhaba", public=True, now=t - timedelta(minutes=30))
    await staff_login(client, carol)
    page = await client.get(f"/staff/tickets/T-{ticket['number']}")
    assert page.status_code == 200
    assert "met late" in page.text  # first response: 5 minutes late
    assert "min left" in page.text  # resolution: 130 minutes from the start
    token = await accounts.create_api_token("crm", now=t)
    data = (await client.get(f"/api/v1/tickets/T-{ticket['number']}",
                             headers={"Authorization": f"Bearer {token}"})).json()
    first = data["sla"]["first_response"]
    assert first["breached"] is True and first["paused"] is False
    assert datetime.fromisoformat(first["met_at"]) > datetime.fromisoformat(first["due_at"])
    resolution = data["sla"]["resolution"]
    assert resolution["breached"] is False and resolution["met_at"] is None
    assert datetime.fromisoformat(resolution["due_at"]) == ticket["created_at"] + timedelta(minutes=130)
    assert data["sla"]["next_response"] == {"due_at": None, "met_at": None, "breached": False, "paused": False}


# --- the report -----------------------------------------------------------------------------------

async def test_reports_index_and_sla_report_with_csv(client, app, carol, erin, always):
    t = now()
    a = await _open("Zamanında", t - timedelta(minutes=100))
    await service.reply_as_staff(a["id"], agent(erin), "Cevap", public=True, now=t - timedelta(minutes=70))
    b = await _open("=HYPERLINK(\"http://evil\")", t - timedelta(minutes=100))
    await service.reply_as_staff(b["id"], agent(erin), "Cevap", public=True, now=t - timedelta(minutes=10))
    await staff_login(client, carol)
    assert (await client.get("/staff/reports")).status_code == 403
    await staff_login(client, erin)
    index = await client.get("/staff/reports")
    assert index.status_code == 200 and 'href="/staff/reports/sla"' in index.text
    for other in ("/staff/reports/satisfaction", "/staff/reports/deflection"):  # listed only when they exist
        assert (f'href="{other}"' in index.text) == (other in app.route_handler_method_map)
    page = await client.get("/staff/reports/sla?months=1")
    assert page.status_code == 200
    # First responses: one met (30 min), one missed (90 min); resolutions still running.
    assert 'id="sla-compliance">50' in page.text
    assert "HYPERLINK" in page.text and f"T-{b['number']}" in page.text
    export = await client.get("/staff/reports/sla.csv?months=1")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:3] == ["ticket", "subject", "team"]
    subjects = {r[1] for r in rows[1:]}
    assert "'=HYPERLINK(\"http://evil\")" in subjects
    outcomes = {(r[0], r[5]): r[8] for r in rows[1:]}
    assert outcomes[(f"T-{a['number']}", "first_response")] == "met"
    assert outcomes[(f"T-{b['number']}", "first_response")] == "breached"
    hours = {(r[0], r[5]): float(r[9]) for r in rows[1:]}
    assert hours[(f"T-{a['number']}", "first_response")] == 0.5
    assert await TicketSla.count() == 4


async def test_odd_numbers_zones_and_years_are_422_not_500(client, dave, erin):
    calendar_id = await sla.ensure_default_calendar(now=now())
    await staff_login(client, dave)
    zone = await client.post_form("/staff/settings/business-hours", {
        "name": "Kıta", "timezone": "Europe", "public_holidays": "1", **WEEK})  # a directory of zones
    assert zone.status_code == 422 and "Unknown time zone" in zone.text
    url = f"/staff/settings/business-hours/{calendar_id}"
    for starts, ends in (("2026-12-31", "9999-12-31"), ("0001-01-01", "2026-12-31"),
                         ("9999-12-31 10:00", "9999-12-31 11:00")):
        far = await client.post_form(f"{url}/closures", {"starts": starts, "ends": ends})
        assert far.status_code == 422, (starts, ends)
    assert await CalendarClosure.count() == 0
    for field, value in (("warn_percent", "²"), ("first_response_minutes", "²"),
                         ("first_response_minutes", "99999999999")):
        form = {"name": "Tek", "calendar": str(calendar_id), "warn_percent": "80", "first_response_minutes": "30",
                field: value}
        assert (await client.post_form("/staff/settings/sla", form)).status_code == 422, (field, value)
    assert await SlaPolicy.count() == 0
    await staff_login(client, erin)
    for months in ("²", "99999999999", "--3"):
        assert (await client.get(f"/staff/reports/sla?months={months}")).status_code == 200
