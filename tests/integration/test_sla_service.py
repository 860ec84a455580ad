"""The SLA clock applied to tickets (portal.sla.service) and its warnings and breaches
(portal.sla.alerts), on both databases: due times on open, pauses, responses, a priority
change, alarms fired exactly once (also with two workers racing)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts import service as accounts
from portal.accounts.tables import Team
from portal.jobs.worker import Worker
from portal.mail.tables import Outbox
from portal.settings import ROOT
from portal.sla import admin, alerts
from portal.sla import service as sla
from portal.sla.tables import TicketSla
from portal.tickets import changes, service
from portal.tickets.rules import Actor
from portal.tickets.tables import Ticket, TicketEvent

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 09:00 Istanbul


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def add_policy(name: str, calendar_id: int, *, priorities: str = "", segments: str = "",
                     first: int | None = 60, nxt: int | None = 120, resolution: int | None = 480,
                     pause_on_hold: bool = False) -> int:
    return await admin.save_policy(None, {
        "name": name, "active": True, "priorities": priorities, "team_ids": "", "form_slugs": "", "channels": "",
        "segments": segments, "first_response_minutes": first, "next_response_minutes": nxt,
        "resolution_minutes": resolution, "warn_percent": 80, "pause_on_hold": pause_on_hold,
        "calendar": calendar_id}, now=T0)


@pytest.fixture
async def people(running_app):
    customer = await accounts.find_or_create_customer("ayse@example.com", name="Ayşe Yılmaz", now=T0)
    agent = await accounts.create_staff(email="mert@example.com", name="Mert", role="agent",
                                        password_hash="x", now=T0, team="destek")
    lead = await accounts.create_staff(email="elif@example.com", name="Elif", role="lead", password_hash="x",
                                       now=T0, team="destek")
    teams = {t["slug"]: t["id"] for t in await Team.select(Team.id, Team.slug)}
    from portal.accounts.tables import TeamMember
    await TeamMember.update({TeamMember.is_lead: True}).where(TeamMember.staff == lead["id"])
    calendar_id = await sla.ensure_default_calendar(now=T0)
    urgent = await add_policy("Acil", calendar_id, priorities="urgent", first=15, nxt=30, resolution=120)
    normal = await add_policy("Normal", calendar_id, pause_on_hold=True)
    return {"customer": customer, "as_customer": Actor.customer(customer),
            "agent": Actor.staff(agent, {teams["destek"]}), "agent_row": agent, "lead": lead,
            "team": teams["destek"], "calendar": calendar_id, "urgent": urgent, "normal": normal}


async def open_ticket(people, *, priority: str = "normal", now: datetime = T0, assign: bool = True) -> dict:
    new = service.NewTicket(subject="Kargom gelmedi", body="Merhaba", requester_id=people["customer"]["id"],
                            priority=priority, team_id=people["team"],
                            assignee_id=people["agent_row"]["id"] if assign else None)
    return (await service.open_ticket(new, actor=people["as_customer"], now=now)).ticket


async def rows(ticket_id: int) -> dict[str, dict]:
    return await sla.targets_for(ticket_id)


async def test_due_times_are_set_when_a_ticket_opens(people):
    ticket = await open_ticket(people)
    assert ticket["sla_policy_id"] == people["normal"]
    assert ticket["first_response_due_at"] == at(60)
    assert ticket["resolution_due_at"] == at(480)
    assert ticket["next_response_due_at"] is None
    assert ticket["due_at"] == at(60) and not ticket["sla_breached"]
    r = await rows(ticket["id"])
    assert set(r) == {"first_response", "resolution"}
    assert r["first_response"]["next_warn_at"] == at(48)
    assert r["first_response"]["next_breach_at"] == at(60)
    policy_events = await TicketEvent.select().where((TicketEvent.ticket == ticket["id"])
                                                     & (TicketEvent.field == "sla_policy"))
    assert [e["new"] for e in policy_events] == ["Normal"]


async def test_first_public_staff_reply_meets_first_response_and_notes_do_not(people):
    ticket = await open_ticket(people)
    await service.reply_as_staff(ticket["id"], people["agent"], "internal", public=False, now=at(10))
    assert (await rows(ticket["id"]))["first_response"]["met_at"] is None
    await service.reply_as_staff(ticket["id"], people["agent"], "Bakıyorum", public=True, now=at(20))
    r = await rows(ticket["id"])
    assert r["first_response"]["met_at"] == at(20)
    assert r["first_response"]["next_warn_at"] is None and r["first_response"]["next_breach_at"] is None
    t = await service.load(ticket["id"])
    assert t["due_at"] == at(480)  # resolution is what is left
    # The customer writes again: a next-response cycle starts.
    await service.reply_as_customer(ticket["id"], people["as_customer"], "Hâlâ yok", now=at(30))
    t = await service.load(ticket["id"])
    assert t["next_response_due_at"] == at(150) and t["due_at"] == at(150)


async def test_pending_pauses_the_clock(people):
    ticket = await open_ticket(people)
    await service.reply_as_staff(ticket["id"], people["agent"], "Sipariş no?", public=True, status="pending",
                                 now=at(20))
    t = await service.load(ticket["id"])
    assert t["sla_paused_at"] == at(20) and t["due_at"] is None
    r = await rows(ticket["id"])
    assert r["resolution"]["paused"] and r["resolution"]["next_breach_at"] is None
    # Two hours later the customer answers: the resolution target moves by two hours.
    await service.reply_as_customer(ticket["id"], people["as_customer"], "12345", now=at(140))
    t = await service.load(ticket["id"])
    assert t["sla_paused_at"] is None
    # Monday 17:00 plus two hours is past closing (18:00): Tuesday 10:00 Istanbul.
    tuesday_ten = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert t["resolution_due_at"] == tuesday_ten
    assert (await rows(ticket["id"]))["resolution"]["next_breach_at"] == tuesday_ten


async def test_priority_change_recomputes_from_the_start_and_is_recorded(people):
    ticket = await open_ticket(people)
    await changes.update(ticket["id"], {"priority": "urgent"}, actor=people["agent"], now=at(5))
    t = await service.load(ticket["id"])
    assert t["sla_policy_id"] == people["urgent"]
    assert t["first_response_due_at"] == at(15) and t["resolution_due_at"] == at(120)
    events = await TicketEvent.select(TicketEvent.field, TicketEvent.old, TicketEvent.new).where(
        (TicketEvent.ticket == ticket["id"]) & TicketEvent.field.is_in(["priority", "sla_policy"])).order_by(
        TicketEvent.id)
    assert [(e["field"], e["old"], e["new"]) for e in events] == [
        ("sla_policy", "", "Normal"), ("priority", "normal", "urgent"), ("sla_policy", "Normal", "Acil")]


async def test_warning_then_breach_each_fired_once(people):
    ticket = await open_ticket(people)
    assert await alerts.run(at(47)) == 0
    assert await alerts.run(at(48)) == 1  # 80% of 60 business minutes
    assert await alerts.run(at(50)) == 0
    warn = await Outbox.select().where(Outbox.template == "sla-warn")
    assert [m["to_addr"] for m in warn] == ["mert@example.com"]
    assert "T-1001" in warn[0]["subject"]
    assert await alerts.run(at(60)) == 1
    assert await alerts.run(at(61)) == 0
    breach = await Outbox.select().where(Outbox.template == "sla-breach")
    assert [m["to_addr"] for m in breach] == ["elif@example.com"]
    t = await service.load(ticket["id"])
    assert t["sla_breached"]
    fields = await TicketEvent.select(TicketEvent.field, TicketEvent.new).where(
        (TicketEvent.ticket == ticket["id"]) & TicketEvent.field.is_in(["sla_warning", "sla_breach"])).order_by(
        TicketEvent.id)
    assert [(e["field"], e["new"]) for e in fields] == [("sla_warning", "first_response"),
                                                        ("sla_breach", "first_response")]
    # A later change of the ticket does not announce the same alarms again.
    await service.reply_as_staff(ticket["id"], people["agent"], "Geç kaldık", public=True, now=at(70))
    assert await alerts.run(at(75)) == 0
    r = await rows(ticket["id"])
    assert r["first_response"]["breached_at"] is not None and r["first_response"]["warned_at"] is not None


async def test_a_ticket_the_customer_closes_raises_no_alarm_and_reopening_restarts_it(people):
    ticket = await open_ticket(people)
    await service.customer_set_status(ticket["id"], people["as_customer"], "close", now=at(10))
    assert await alerts.run(at(600)) == 0
    assert not (await service.load(ticket["id"]))["sla_breached"]
    assert all(r["next_breach_at"] is None and r["next_warn_at"] is None for r in (await rows(ticket["id"])).values())
    await service.customer_set_status(ticket["id"], people["as_customer"], "reopen", now=at(20))
    assert (await service.load(ticket["id"]))["due_at"] is not None
    assert await alerts.run(at(600)) >= 1  # the reopened ticket's clock runs again


async def test_a_merged_duplicate_raises_no_alarm(people):
    from portal.tickets import merging

    duplicate, kept = await open_ticket(people), await open_ticket(people)
    await merging.merge(duplicate["id"], kept["id"], actor=people["agent"], now=at(5))
    closed = await service.load(duplicate["id"])
    assert closed["status"] == "closed" and closed["due_at"] is None
    statuses = await TicketEvent.select(TicketEvent.old, TicketEvent.new).where(
        (TicketEvent.ticket == duplicate["id"]) & (TicketEvent.field == "status"))
    assert [(e["old"], e["new"]) for e in statuses] == [("new", "closed")]
    await alerts.run(at(600))
    breaches = await TicketEvent.select(TicketEvent.ticket).where(TicketEvent.field == "sla_breach")
    assert {e["ticket"] for e in breaches} == {kept["id"]}


async def test_paused_tickets_are_not_announced(people):
    ticket = await open_ticket(people)
    await changes.update(ticket["id"], {"status": "pending"}, actor=people["agent"], now=at(10))
    assert await alerts.run(at(600)) == 0
    assert await Outbox.count().where(Outbox.template.is_in(["sla-warn", "sla-breach"])) == 0
    t = await service.load(ticket["id"])
    assert not t["sla_breached"]


async def test_unassigned_warning_goes_to_the_team_lead_and_the_worker_runs_it(people, settings):
    from portal.accounts.tables import StaffUser

    await StaffUser.update({StaffUser.available: False}, force=True)  # nobody to route it to
    ticket = await open_ticket(people, assign=False)
    assert ticket["assignee"] is None
    await Worker(settings).run_once(at(49))
    assert [m["to_addr"] for m in await Outbox.select().where(Outbox.template == "sla-warn")] == ["elif@example.com"]


async def test_a_target_met_late_before_the_job_ran_is_still_announced_once(people):
    ticket = await open_ticket(people)
    await service.reply_as_staff(ticket["id"], people["agent"], "Geç", public=True, now=at(90))
    t = await service.load(ticket["id"])
    assert t["sla_breached"]
    assert await alerts.run(at(95)) == 1
    assert await Outbox.count().where(Outbox.template == "sla-warn") == 0  # met: no warning any more
    assert await Outbox.count().where(Outbox.template == "sla-breach") == 1


async def test_two_workers_racing_announce_each_alarm_once(people):
    for i in range(30):
        await open_ticket(people, now=at(i % 5))
    await asyncio.gather(*(alerts.run(at(100), limit=7) for _ in range(3)))
    assert await Outbox.count().where(Outbox.template == "sla-breach") == 30
    assert await TicketEvent.count().where(TicketEvent.field == "sla_breach") == 30
    # Every warning came too late (the breach says it all) and none is left to fire.
    assert await Outbox.count().where(Outbox.template == "sla-warn") == 0
    assert await TicketSla.count().where(TicketSla.next_breach_at <= at(100)) == 0
    assert await alerts.run(at(200)) == 0
    assert await Ticket.count().where(Ticket.sla_breached == False) == 0  # noqa: E712


async def test_policy_changes_apply_to_open_tickets(people):
    ticket = await open_ticket(people)
    await admin.delete_policy(people["normal"], now=at(1))
    t = await service.load(ticket["id"])
    assert t["sla_policy_id"] is None and t["due_at"] is None
    assert await rows(ticket["id"]) == {}


async def test_vip_segment_gets_the_faster_policy(people):
    from portal.value.tables import CustomerValue

    vip = await add_policy("VIP", people["calendar"], segments="champions", first=30, nxt=60, resolution=240)
    await admin.move_policy(vip, -1, now=T0)
    await admin.move_policy(vip, -1, now=T0)  # first of all
    plain = await open_ticket(people)
    assert plain["sla_policy_id"] == people["normal"]  # no segment yet
    await CustomerValue.insert(CustomerValue(customer=people["customer"]["id"], recency_days=3, frequency=9,
                                             monetary=25000, r=5, f=5, m=5, segment="champions", computed_at=T0))
    ticket = await open_ticket(people)
    assert ticket["sla_policy_id"] == vip and ticket["first_response_due_at"] == at(30)


WORKER_SCRIPT = """
import asyncio, sys
from datetime import datetime
from pathlib import Path

from portal import db
from portal.mail import service
from portal.settings import Settings
from portal.sla import alerts

url, var_dir, now = sys.argv[1], Path(sys.argv[2]), datetime.fromisoformat(sys.argv[3])

async def main():
    settings = Settings(database_url=url, secret_key="x" * 40, var_dir=var_dir)
    service.configure(base_url=settings.base_url, mail_from=settings.mail_from)
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # wait for "go"
    total = 0
    while fired := await alerts.run(now, limit=3):
        total += fired
    await db.stop(engine)
    print(total, flush=True)

asyncio.run(main())
"""


async def test_two_worker_processes_announce_each_alarm_once(people, settings, tmp_path):
    for i in range(20):
        await open_ticket(people, now=at(i % 5))
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER_SCRIPT, settings.database_url, str(tmp_path / f"var{i}"), at(100).isoformat(),
        cwd=str(ROOT), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for i in range(2)]
    try:
        for proc in procs:  # both connected before either starts: they really overlap
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line.strip() == b"ready", (line, await proc.stderr.read())
        for proc in procs:
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        outputs = [await asyncio.wait_for(proc.communicate(), 120) for proc in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
    assert sum(int(out.strip().splitlines()[-1]) for out, _err in outputs) == 20
    assert await Outbox.count().where(Outbox.template == "sla-breach") == 20
    assert await TicketEvent.count().where(TicketEvent.field == "sla_breach") == 20
