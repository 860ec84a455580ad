"""Ticket rules (portal.tickets) on both databases: opening, replies, transitions, follow-ups,
optimistic concurrency, bulk changes with refusals, closing stale tickets, mail threading."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts import service as accounts
from portal.accounts.tables import Team
from portal.mail.tables import Outbox
from portal.tags import service as tags
from portal.tickets import changes, queries, service
from portal.tickets.files import AttachmentRefused, Storage, Upload, check_all
from portal.tickets.rules import Actor, StaleVersion, TicketError
from portal.tickets.tables import GuestToken, Message, Ticket, TicketEvent

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
async def people(running_app):
    customer = await accounts.find_or_create_customer("ayse@example.com", name="Ayşe Yılmaz", now=T0)
    agent = await accounts.create_staff(email="mert@example.com", name="Mert", role="agent",
                                        password_hash="x", now=T0, team="destek")
    other = await accounts.create_staff(email="zeynep@example.com", name="Zeynep", role="agent",
                                        password_hash="x", now=T0, team="satis")
    lead = await accounts.create_staff(email="elif@example.com", name="Elif", role="lead", password_hash="x",
                                       now=T0, team="destek")
    teams = {t["slug"]: t["id"] for t in await Team.select(Team.id, Team.slug)}
    return {
        "customer": customer,
        "as_customer": Actor.customer(customer),
        "agent": Actor.staff(agent, {teams["destek"]}),
        "other": Actor.staff(other, {teams["satis"]}),
        "lead": Actor.staff(lead, {teams["destek"]}),
        "teams": teams,
    }


def _headers(mail: dict) -> dict:
    return mail["headers"] if isinstance(mail["headers"], dict) else json.loads(mail["headers"])


async def _open(people, **kw) -> dict:
    new = service.NewTicket(subject=kw.pop("subject", "Kargom gelmedi"),
                            body=kw.pop("body", "Merhaba, kargom?"),
                            requester_id=people["customer"]["id"], **kw)
    return (await service.open_ticket(new, actor=people["as_customer"], now=T0)).ticket


async def test_open_numbers_tickets_and_mails_a_guest_link(people):
    first = await _open(people)
    second = await _open(people, subject="İade")
    assert (first["number"], second["number"]) == (1001, 1002)
    assert first["status"] == "new" and first["version"] == 1
    mails = await Outbox.select().where(Outbox.to_addr == "ayse@example.com").order_by(Outbox.id)
    assert len(mails) == 2 and mails[0]["template"] == "ticket-created"
    assert "[T-1001]" in mails[0]["subject"]
    headers = _headers(mails[0])
    assert headers["Reply-To"] == f"support+T-1001.{first['reply_key']}@localhost"
    assert headers["Auto-Submitted"] == "auto-replied"
    msg = await Message.select().where(Message.ticket == first["id"]).first()
    assert msg["message_id"] == mails[0]["message_id"] and msg["author_kind"] == "customer"
    token = mails[0]["body_text"].split("/t/")[1].split()[0]
    assert (await queries.ticket_for_guest(token))["id"] == first["id"]
    assert await queries.ticket_for_guest(token + "x") is None
    stored = await GuestToken.select(GuestToken.token_hash).output(as_list=True)
    assert token not in stored  # only hashes are kept
    assert [e["field"] for e in await queries.events(first["id"])] == ["created"]


async def test_agent_reply_threads_and_sets_first_response(people):
    ticket = await _open(people)
    later = T0 + timedelta(hours=1)
    updated = await service.reply_as_staff(ticket["id"], people["agent"], "Kargonuz yolda.", public=True,
                                           now=later)
    assert updated["status"] == "open" and updated["first_response_at"] == later
    mails = await Outbox.select().where(Outbox.to_addr == "ayse@example.com").order_by(Outbox.id)
    reply_headers = _headers(mails[1])
    assert reply_headers["In-Reply-To"] == mails[0]["message_id"]
    assert reply_headers["References"] == mails[0]["message_id"]
    assert mails[1]["message_id"] != mails[0]["message_id"]
    # An internal note mails nobody and does not count as a response.
    before = await Outbox.count()
    await service.reply_as_staff(ticket["id"], people["other"], "not: müşteri VIP", public=False, now=later)
    assert await Outbox.count() == before
    notes = await queries.thread(ticket["id"], internal=False)
    assert all(m["public"] for m in notes) and len(notes) == 2


async def test_customer_reply_reopens_and_tells_the_assignee(people):
    ticket = await _open(people, assignee_id=people["agent"].staff_id)
    await service.reply_as_staff(ticket["id"], people["agent"], "Çözüldü", public=True, status="solved",
                                 now=T0)
    replied = await service.reply_as_customer(ticket["id"], people["as_customer"], "Hâlâ gelmedi!", now=T0)
    assert replied.ticket["status"] == "open" and not replied.follow_up
    assert replied.ticket["solved_at"] is None
    to_agent = await Outbox.select().where(Outbox.to_addr == "mert@example.com").order_by(Outbox.id)
    assert [m["template"] for m in to_agent] == ["ticket-assigned", "ticket-customer-reply"]


async def test_reply_to_a_closed_ticket_opens_a_linked_follow_up(people):
    ticket = await _open(people)
    await service.reply_as_staff(ticket["id"], people["agent"], "Tamam", public=True, status="solved", now=T0)
    assert await service.close_stale(T0 + timedelta(days=6)) == 0
    assert await service.close_stale(T0 + timedelta(days=7, seconds=1)) == 1
    assert (await service.load(ticket["id"]))["status"] == "closed"
    replied = await service.reply_as_customer(ticket["id"], people["as_customer"], "Yine sorun var", now=T0)
    assert replied.follow_up and replied.ticket["follow_up_of"] == ticket["id"]
    assert replied.ticket["number"] == ticket["number"] + 1 and replied.guest_token
    assert (await service.load(ticket["id"]))["status"] == "closed"
    fields = [e["field"] for e in await queries.events(ticket["id"])]
    assert fields[-2:] == ["status", "follow_up"]


async def test_transitions_are_checked(people):
    ticket = await _open(people)
    with pytest.raises(TicketError) as exc:
        await changes.update(ticket["id"], {"status": "closed"}, actor=people["lead"], now=T0)
    assert exc.value.code == "bad_transition"
    with pytest.raises(TicketError):
        await changes.update(ticket["id"], {"status": "bogus"}, actor=people["lead"], now=T0)
    with pytest.raises(TicketError):
        await service.customer_set_status(ticket["id"], people["as_customer"], "reopen", now=T0)
    closed = await service.customer_set_status(ticket["id"], people["as_customer"], "close", now=T0)
    assert closed["status"] == "solved"
    reopened = await service.customer_set_status(ticket["id"], people["as_customer"], "reopen", now=T0)
    assert reopened["status"] == "open"


async def test_two_agents_change_the_same_ticket(people):
    ticket = await _open(people)
    seen = ticket["version"]
    first = await changes.update(ticket["id"], {"priority": "high"}, actor=people["agent"], now=T0,
                                 expected_version=seen)
    with pytest.raises(StaleVersion) as exc:
        await changes.update(ticket["id"], {"priority": "low", "team": people["teams"]["satis"]},
                             actor=people["lead"], now=T0, expected_version=seen)
    assert exc.value.current == first["version"]
    now_row = await service.load(ticket["id"])
    # The first change is kept and nothing of the second is mixed in.
    assert now_row["priority"] == "high" and now_row["team"] is None
    again = await changes.update(ticket["id"], {"priority": "low"}, actor=people["lead"], now=T0,
                                 expected_version=now_row["version"])
    assert again["priority"] == "low"
    events = [(e["field"], e["old"], e["new"]) for e in await queries.events(ticket["id"])]
    assert ("priority", "normal", "high") in events and ("priority", "high", "low") in events


async def test_agents_change_only_their_teams_tickets_and_bulk_reports_the_rest(people):
    mine = await _open(people, team_id=people["teams"]["destek"])
    theirs = await _open(people, team_id=people["teams"]["satis"])
    nobody = await _open(people)
    with pytest.raises(TicketError) as exc:
        await changes.update(theirs["id"], {"priority": "urgent"}, actor=people["agent"], now=T0)
    assert exc.value.code == "forbidden"
    report = await changes.bulk([mine["id"], theirs["id"], nobody["id"], 999999],
                                {"assignee": people["agent"].staff_id}, actor=people["agent"], now=T0)
    assert report.changed == ["T-1001", "T-1003"]
    assert report.refused == [("T-1002", "forbidden"), ("#999999", "not_found")]
    assert (await service.load(theirs["id"]))["assignee"] is None
    lead_report = await changes.bulk([theirs["id"]], {"status": "closed"}, actor=people["lead"], now=T0)
    assert lead_report.refused == [("T-1002", "bad_transition")]


async def test_tags_fold_turkish_and_suggest_most_used_first(people):
    a = await _open(people)
    b = await _open(people)
    await changes.update(a["id"], {"tags": "İade, kargo"}, actor=people["lead"], now=T0)
    await changes.update(b["id"], {"add_tags": ["iade", "İndirim"]}, actor=people["lead"], now=T0)
    assert await tags.of("ticket", [a["id"], b["id"]]) == {a["id"]: ["İade", "kargo"],
                                                            b["id"]: ["İade", "İndirim"]}
    suggestions = await tags.suggest("i")
    assert [s["name"] for s in suggestions][:2] == ["İade", "İndirim"] and suggestions[0]["uses"] == 2
    assert [e["field"] for e in await queries.events(b["id"])][-1] == "tags"
    tag = await tags.get("IADE")
    assert sorted(await tags.records(tag["id"], "ticket")) == sorted([a["id"], b["id"]])


async def test_attachments_are_checked_and_stored_outside_static(people, tmp_path):
    with pytest.raises(AttachmentRefused) as exc:
        check_all([Upload("x.png", b"<html><script>alert(1)</script>")])
    assert exc.value.code == "type"
    with pytest.raises(AttachmentRefused):
        check_all([Upload("resim.svg", b"<svg onload=alert(1)>")])
    with pytest.raises(AttachmentRefused) as exc:
        check_all([Upload("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))])
    assert exc.value.code == "too_large"
    files = check_all([Upload("../../etc/fatura.pdf", b"%PDF-1.4 ..."), Upload("not.txt", b"merhaba")])
    storage = Storage(tmp_path / "attachments")
    new = service.NewTicket(subject="Fatura", body="ekte", requester_id=people["customer"]["id"], files=files)
    ticket = (await service.open_ticket(new, actor=people["as_customer"], now=T0, storage=storage)).ticket
    thread = await queries.thread(ticket["id"], internal=False)
    names = [a["filename"] for a in thread[0]["attachments"]]
    assert names == ["fatura.pdf", "not.txt"]
    stored = sorted(p.name for p in (tmp_path / "attachments").iterdir())
    assert len(stored) == 2 and "fatura.pdf" not in stored


async def test_a_failed_change_leaves_no_files(people, tmp_path):
    storage = Storage(tmp_path / "attachments")
    files = check_all([Upload("a.txt", b"hello")])
    with pytest.raises(TicketError):
        await service.open_ticket(service.NewTicket(subject="x", body="y", requester_id=999999, files=files),
                                  actor=people["as_customer"], now=T0, storage=storage)
    assert not any((tmp_path / "attachments").iterdir())
    assert await Ticket.count() == 0 and await TicketEvent.count() == 0
