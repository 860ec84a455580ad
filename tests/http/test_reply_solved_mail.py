"""A public reply that solves the ticket reaches the customer as ONE mail: the reply, with the
"solved, how did we do?" notice (and the one-click scores when CSAT applies) under it. A reply
alone, a solve alone and a note with a solve keep their own single mail."""

from __future__ import annotations

import json

from portal.clock import now
from portal.mail.tables import Outbox
from portal.surveys import csat
from portal.surveys import service as surveys
from portal.surveys.tables import SurveyRequest
from portal.tickets import changes, mailing, queries, service
from portal.tickets.rules import Actor
from portal.tickets.tables import Message
from tests.conftest import link_in, outbox_to, staff_login

HOSTILE = 'Kargonuz yolda <script>alert("x")</script> & <b>çözüldü</b>.'


def _headers(mail: dict) -> dict:
    return mail["headers"] if isinstance(mail["headers"], dict) else json.loads(mail["headers"])


async def _agent(staff_id: int) -> Actor:
    from portal.accounts.tables import StaffUser, Team

    team = await Team.select(Team.id).where(Team.slug == "destek").first()
    return Actor.staff(await StaffUser.select().where(StaffUser.id == staff_id).first(), {team["id"]})


async def _ticket(requester_id: int, agent_id: int, subject: str = "Kargom gelmedi") -> dict:
    from portal.accounts.tables import Team

    team = await Team.select(Team.id).where(Team.slug == "destek").first()
    opened = await service.open_ticket(service.NewTicket(
        subject=subject, body="Nerede?", requester_id=requester_id, team_id=team["id"], assignee_id=agent_id),
        actor=Actor.customer({"id": requester_id, "name": "x"}), now=now())
    return opened.ticket


async def _after_opening(email: str) -> list[dict]:
    mails = await outbox_to(email)
    assert mails[0]["template"] == "ticket-created"
    return mails[1:]


async def _reply_message(ticket_id: int) -> dict:
    return await Message.select().where((Message.ticket == ticket_id) & (Message.author_kind == "staff")).order_by(
        Message.id, ascending=False).first()


async def test_reply_that_solves_is_one_mail_with_the_reply_and_the_scores(client, alice, carol):
    ticket = await _ticket(alice.id, carol.id)
    await service.reply_as_staff(ticket["id"], await _agent(carol.id), HOSTILE, public=True, status="solved",
                                 now=now())
    first = (await outbox_to(alice.email))[0]
    mails = await _after_opening(alice.email)
    assert len(mails) == 1
    mail = mails[0]
    assert mail["template"] == "ticket-solved" and mail["subject"] == f"[T-{ticket['number']}] Ynt: Kargom gelmedi"
    # The reply, as the reply mail shows it: the text as typed, inert in the HTML part.
    assert HOSTILE in mail["body_text"] and "Carol Kaya" in mail["body_text"]
    assert "<script>" not in mail["body_html"] and "<b>çözüldü</b>" not in mail["body_html"]
    assert "&lt;script&gt;alert(" in mail["body_html"] and "Carol Kaya" in mail["body_html"]
    # The solved notice, the guest link and the five scores.
    assert "solved" in mail["body_text"] or "çözüldü olarak" in mail["body_text"]
    for n in range(1, 6):
        assert f"?score={n}" in mail["body_text"] and f"?score={n}" in mail["body_html"]
    guest = link_in(mail["body_text"], "/t/").removeprefix("/t/")
    assert (await queries.ticket_for_guest(guest))["id"] == ticket["id"]
    # Threaded as the reply would be, and the reply message keeps its Message-ID.
    headers = _headers(mail)
    assert headers["In-Reply-To"] == first["message_id"] and headers["References"] == first["message_id"]
    assert headers["Reply-To"] == mailing.reply_address(ticket) and "Auto-Submitted" not in headers
    assert (await _reply_message(ticket["id"]))["message_id"] == mail["message_id"]
    request = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    assert request["sent_at"] is not None and request["agent"] == carol.id


async def test_the_score_link_of_the_combined_mail_records_the_score(client, alice, carol):
    ticket = await _ticket(alice.id, carol.id)
    await service.reply_as_staff(ticket["id"], await _agent(carol.id), "Çözdük.", public=True, status="solved",
                                 now=now())
    [mail] = await _after_opening(alice.email)
    path = link_in(mail["body_text"], "/s/").split("?")[0]
    assert f"{path}?score=5" in mail["body_html"]
    assert (await client.get(f"{path}?score=5")).status_code == 200
    assert (await client.post_form(path, {"score": "5"})).status_code == 303
    row = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    assert row["score"] == 5 and row["answered_at"] is not None


async def test_english_customer_gets_the_combined_mail_in_english(client, bob, carol):
    ticket = await _ticket(bob.id, carol.id, subject="Where is my parcel")
    await service.reply_as_staff(ticket["id"], await _agent(carol.id), "It is on its way.", public=True,
                                 status="solved", now=now())
    [mail] = await _after_opening(bob.email)
    assert mail["subject"] == f"[T-{ticket['number']}] Re: Where is my parcel"
    assert "Carol Kaya has answered your request" in mail["body_text"]
    assert "as solved" in mail["body_text"] and "How did we do?" in mail["body_text"]
    assert "It is on its way." in mail["body_html"] and "How did we do?" in mail["body_html"]


async def test_reply_without_solving_is_the_reply_mail_only(client, alice, carol):
    ticket = await _ticket(alice.id, carol.id)
    await service.reply_as_staff(ticket["id"], await _agent(carol.id), "Bakıyorum.", public=True,
                                 status="pending", now=now())
    [mail] = await _after_opening(alice.email)
    assert mail["template"] == "ticket-reply" and "Bakıyorum." in mail["body_text"] and "/s/" not in mail["body_text"]
    assert (await _reply_message(ticket["id"]))["message_id"] == mail["message_id"]
    assert await SurveyRequest.count() == 0


async def test_solving_without_a_reply_is_the_solved_mail_only(client, alice, carol):
    ticket = await _ticket(alice.id, carol.id)
    await changes.update(ticket["id"], {"status": "solved"}, actor=await _agent(carol.id), now=now())
    [mail] = await _after_opening(alice.email)
    assert mail["template"] == "ticket-solved" and "/s/" in mail["body_text"]
    assert "Carol Kaya" not in mail["body_text"] and "Ynt:" not in mail["subject"]
    assert _headers(mail)["Auto-Submitted"] == "auto-generated"


async def test_a_note_with_a_solve_is_the_solved_mail_only_without_the_note(client, alice, carol):
    ticket = await _ticket(alice.id, carol.id)
    await service.reply_as_staff(ticket["id"], await _agent(carol.id), "İç not: iade yapıldı", public=False,
                                 status="solved", now=now())
    [mail] = await _after_opening(alice.email)
    assert mail["template"] == "ticket-solved" and "/s/" in mail["body_text"]
    assert "İç not" not in mail["body_text"] and "İç not" not in mail["body_html"]
    assert (await _reply_message(ticket["id"]))["message_id"] is None


async def test_csat_off_is_one_mail_with_the_reply_and_no_scores(client, alice, carol):
    await surveys.save_config(surveys.Config(csat_enabled=False), now=now())
    ticket = await _ticket(alice.id, carol.id)
    await service.reply_as_staff(ticket["id"], await _agent(carol.id), "Kargonuz teslim edildi.", public=True,
                                 status="solved", now=now())
    [mail] = await _after_opening(alice.email)
    assert "Kargonuz teslim edildi." in mail["body_text"] and "Kargonuz teslim edildi." in mail["body_html"]
    assert "çözüldü olarak" in mail["body_text"] and "/t/" in mail["body_text"]
    assert "/s/" not in mail["body_text"] and "/s/" not in mail["body_html"]
    assert (await _reply_message(ticket["id"]))["message_id"] == mail["message_id"]


async def test_a_fatigued_customer_gets_the_reply_with_the_notice_but_no_scores(client, alice, carol):
    first = await _ticket(alice.id, carol.id, subject="Bir")
    await service.reply_as_staff(first["id"], await _agent(carol.id), "Birinci çözüm.", public=True,
                                 status="solved", now=now())
    second = await _ticket(alice.id, carol.id, subject="İki")
    await service.reply_as_staff(second["id"], await _agent(carol.id), "İkinci çözüm.", public=True,
                                 status="solved", now=now())
    mails = [m for m in await outbox_to(alice.email) if m["related"] == f"ticket:{second['id']}"]
    assert [m["template"] for m in mails] == ["ticket-created", "ticket-solved"]
    assert "İkinci çözüm." in mails[1]["body_text"] and "/s/" not in mails[1]["body_text"]


async def test_replying_again_on_a_solved_ticket_is_a_reply_mail(client, alice, carol):
    ticket = await _ticket(alice.id, carol.id)
    agent = await _agent(carol.id)
    await service.reply_as_staff(ticket["id"], agent, "Çözdük.", public=True, status="solved", now=now())
    await service.reply_as_staff(ticket["id"], agent, "Bir not daha.", public=True, status="solved", now=now())
    mails = await _after_opening(alice.email)
    assert [m["template"] for m in mails] == ["ticket-solved", "ticket-reply"]
    assert "Bir not daha." in mails[1]["body_text"]
    assert _headers(mails[1])["In-Reply-To"] == mails[0]["message_id"]


async def test_without_the_survey_hook_the_reply_is_mailed_as_today(client, alice, carol, monkeypatch):
    """Nobody mails the notice (the tickets app on its own): the reply still goes out."""
    monkeypatch.setattr(service, "LISTENERS", [f for f in service.LISTENERS if f is not csat.on_ticket_change])
    ticket = await _ticket(alice.id, carol.id)
    await service.reply_as_staff(ticket["id"], await _agent(carol.id), "Çözdük.", public=True, status="solved",
                                 now=now())
    [mail] = await _after_opening(alice.email)
    assert mail["template"] == "ticket-reply" and "Çözdük." in mail["body_text"]
    assert (await _reply_message(ticket["id"]))["message_id"] == mail["message_id"]
    assert (await service.load(ticket["id"]))["status"] == "solved"


async def test_an_erased_requester_gets_no_mail(client, alice, carol):
    from portal.accounts.tables import Customer

    ticket = await _ticket(alice.id, carol.id)
    await Customer.update({Customer.deleted_at: now()}).where(Customer.id == alice.id)
    before = await Outbox.count()
    await service.reply_as_staff(ticket["id"], await _agent(carol.id), "Çözdük.", public=True, status="solved",
                                 now=now())
    assert await Outbox.count() == before
    assert (await _reply_message(ticket["id"]))["message_id"] is None
    assert (await service.load(ticket["id"]))["status"] == "solved"


async def test_reply_and_solve_from_the_staff_page_is_one_mail(client, alice, carol):
    ticket = await _ticket(alice.id, carol.id)
    await staff_login(client, carol)
    ref = f"T-{ticket['number']}"
    page = await client.get(f"/staff/tickets/{ref}")
    version = page.text.split('name="version" value="')[1].split('"')[0]
    reply = await client.post_form(f"/staff/tickets/{ref}/reply", {
        "body": "Kargonuz yolda.", "kind": "reply", "status": "solved", "version": version})
    assert reply.status_code == 303
    [mail] = await _after_opening(alice.email)
    assert mail["template"] == "ticket-solved" and "Kargonuz yolda." in mail["body_text"] and "/s/" in mail["body_text"]
    assert (await _reply_message(ticket["id"]))["message_id"] == mail["message_id"]
