"""CSAT: the solved mail's one-click scores, ``/s/{token}`` (GET records nothing, POST
records once, changes for 7 days), rating from the ticket page, and closing the loop."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.clock import now
from portal.mail.tables import Outbox
from portal.surveys import service as surveys
from portal.surveys.tables import OptOut, SurveyRequest
from portal.tickets import changes, service
from portal.tickets.rules import Actor
from portal.tickets.tables import Message, Ticket, TicketEvent
from tests.conftest import link_in, login, outbox_to, staff_login


async def _solved_ticket(requester_id: int, agent_id: int, *, subject: str = "Kargom gelmedi") -> dict:
    """A ticket assigned to the agent (team destek), solved by the agent's public reply."""
    from portal.accounts.tables import StaffUser, Team

    team = await Team.select(Team.id).where(Team.slug == "destek").first()
    agent = await StaffUser.select().where(StaffUser.id == agent_id).first()
    actor = Actor.staff(agent, {team["id"]})
    opened = await service.open_ticket(service.NewTicket(
        subject=subject, body="Nerede?", requester_id=requester_id, team_id=team["id"], assignee_id=agent_id),
        actor=Actor.customer({"id": requester_id, "name": "x"}), now=now())
    await service.reply_as_staff(opened.ticket["id"], actor, "Kargonuz yolda, çözüldü.", public=True,
                                 status="solved", now=now())
    return await service.load(opened.ticket["id"])


async def _score_link(email: str, score: int = 4) -> str:
    mails = [m for m in await outbox_to(email) if m["template"] == "ticket-solved"]
    assert mails, "no solved mail"
    link = link_in(mails[-1]["body_text"], "/s/")
    base = link.split("?")[0]
    assert f"{base}?score={score}" in mails[-1]["body_text"] and f"{base}?score={score}" in mails[-1]["body_html"]
    return f"{base}?score={score}"


async def test_solved_mail_get_records_nothing_post_records_once(client, alice, carol):
    ticket = await _solved_ticket(alice.id, carol.id)
    link = await _score_link(alice.email, 4)
    page = await client.get(link)
    assert page.status_code == 200
    assert 'value="4" checked' in page.text and page.headers["cache-control"] == "private, no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    # A scanner fetching every link votes nothing.
    for n in range(1, 6):
        assert (await client.get(link.split("?")[0] + f"?score={n}")).status_code == 200
    request = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    assert request["answered_at"] is None and request["score"] is None
    assert (request["agent"], request["team"]) == (carol.id, ticket["team"]) and request["team"]

    response = await client.post_form(link.split("?")[0], {"score": "4"})
    assert response.status_code == 303
    rows = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"])
    assert len(rows) == 1 and rows[0]["score"] == 4 and rows[0]["answered_at"] is not None
    first_answer = rows[0]["answered_at"]
    # Then an optional comment, on the page the POST led to.
    thanks = await client.get(response.headers["location"])
    assert "Thank you" in thanks.text or "Teşekkür" in thanks.text
    await client.post_form(link.split("?")[0], {"score": "4", "comment": "Hızlıydınız, sağolun"})
    row = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    assert (row["score"], row["comment"], row["answered_at"]) == (4, "Hızlıydınız, sağolun", first_answer)
    # No low score: no alert, the ticket stays solved.
    assert (await service.load(ticket["id"]))["status"] == "solved"


async def test_post_needs_a_valid_score_and_the_csrf_token(client, alice, carol):
    await _solved_ticket(alice.id, carol.id)
    path = (await _score_link(alice.email)).split("?")[0]
    assert (await client.post_form(path, {"score": "9"})).status_code == 422
    assert (await client.post_form(path, {})).status_code == 422
    assert (await client.post(path, data={"score": "5"})).status_code == 403  # no CSRF token
    assert await SurveyRequest.count().where(SurveyRequest.answered_at.is_not_null()) == 0


async def test_change_within_seven_days_then_refused(client, alice, carol):
    ticket = await _solved_ticket(alice.id, carol.id)
    path = (await _score_link(alice.email)).split("?")[0]
    assert (await client.post_form(path, {"score": "3"})).status_code == 303
    assert (await client.post_form(path, {"score": "5"})).status_code == 303
    row = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    assert row["score"] == 5 and row["changed_at"] is not None
    # Eight days after the first answer: shown, but no longer changeable.
    await SurveyRequest.update({SurveyRequest.answered_at: now() - timedelta(days=8)}).where(
        SurveyRequest.id == row["id"])
    refused = await client.post_form(path, {"score": "1"})
    assert refused.status_code == 409
    assert (await SurveyRequest.select().where(SurveyRequest.id == row["id"]).first())["score"] == 5
    page = await client.get(path)
    assert page.status_code == 200 and 'name="score"' not in page.text


async def test_service_windows_use_the_given_now(client, alice, carol):
    ticket = await _solved_ticket(alice.id, carol.id)
    row = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    t0 = row["sent_at"]
    await surveys.record_csat(row["id"], 4, comment=None, now=t0 + timedelta(days=1))
    await surveys.record_csat(row["id"], 3, comment=None, now=t0 + timedelta(days=7, hours=23))
    with pytest.raises(surveys.SurveyRefused) as exc:
        await surveys.record_csat(row["id"], 5, comment=None, now=t0 + timedelta(days=8, hours=1))
    assert exc.value.code == "final"
    # A request never answered within 30 days has expired.
    other = await _solved_ticket(alice.id, carol.id, subject="İkinci")
    # (fatigue: the second solve within 30 days is not mailed a survey, but the ticket page may rate)
    other_row = await SurveyRequest.select().where(SurveyRequest.ticket == other["id"]).first()
    assert other_row["sent_at"] is None
    with pytest.raises(surveys.SurveyRefused) as exc:
        await surveys.record_csat(other_row["id"], 4, comment=None, now=other_row["expires_at"] + timedelta(1))
    assert exc.value.code == "expired"


async def test_forged_and_expired_tokens_are_404(client, alice, carol):
    ticket = await _solved_ticket(alice.id, carol.id)
    path = (await _score_link(alice.email)).split("?")[0]
    assert (await client.get("/s/forged-token-that-does-not-exist?score=5")).status_code == 404
    assert (await client.post_form("/s/forged-token", {"score": "5"})).status_code == 404
    assert (await client.get("/s/" + "x" * 300)).status_code == 404
    await SurveyRequest.update({SurveyRequest.expires_at: now() - timedelta(seconds=1)}).where(
        SurveyRequest.ticket == ticket["id"])
    assert (await client.get(path + "?score=5")).status_code == 404
    assert (await client.post_form(path, {"score": "5"})).status_code == 404
    assert await SurveyRequest.count().where(SurveyRequest.answered_at.is_not_null()) == 0


async def test_low_score_reopens_solved_ticket_for_the_lead(client, alice, carol, erin):
    ticket = await _solved_ticket(alice.id, carol.id)
    path = (await _score_link(alice.email)).split("?")[0]
    assert (await client.post_form(path, {"score": "1", "comment": "Hiç yardımcı olmadınız"})).status_code == 303
    fresh = await service.load(ticket["id"])
    assert fresh["status"] == "open" and fresh["assignee"] == erin.id
    notes = await Message.select().where((Message.ticket == ticket["id"]) & (Message.public == False))  # noqa: E712
    assert len(notes) == 1 and "Hiç yardımcı olmadınız" in notes[0]["body"]
    fields = await TicketEvent.select(TicketEvent.field).where(TicketEvent.ticket == ticket["id"]).output(
        as_list=True)
    assert "satisfaction" in fields and "assignee" in fields
    alerts = [m for m in await outbox_to(erin.email) if m["template"] == "survey-low-score"]
    assert len(alerts) == 1 and "/staff/tickets/T-" in alerts[0]["body_text"]
    # Changing the answer to another low score does not alert twice.
    await client.post_form(path, {"score": "2"})
    assert len([m for m in await outbox_to(erin.email) if m["template"] == "survey-low-score"]) == 1


async def test_low_score_on_closed_ticket_opens_a_linked_follow_up(client, alice, carol, erin):
    ticket = await _solved_ticket(alice.id, carol.id)
    path = (await _score_link(alice.email)).split("?")[0]
    await changes.update(ticket["id"], {"status": "closed"}, actor=Actor.system(), now=now())
    assert (await service.load(ticket["id"]))["status"] == "closed"
    assert (await client.post_form(path, {"score": "2"})).status_code == 303
    assert (await service.load(ticket["id"]))["status"] == "closed"
    follow = await Ticket.select().where(Ticket.follow_up_of == ticket["id"]).first()
    assert follow is not None and follow["assignee"] == erin.id and follow["status"] == "open"
    alerts = [m for m in await outbox_to(erin.email) if m["template"] == "survey-low-score"]
    assert len(alerts) == 1 and f"T-{follow['number']}" in alerts[0]["subject"]
    # The customer is not mailed about the follow-up.
    assert not [m for m in await outbox_to(alice.email) if m["related"] == f"ticket:{follow['id']}"]


async def test_rate_from_ticket_page_and_guest_page(client, alice, bob, carol):
    ticket = await _solved_ticket(alice.id, carol.id)
    ref = f"T-{ticket['number']}"
    await login(client, alice)
    page = await client.get(f"/tickets/{ref}")
    assert page.status_code == 200 and f"/tickets/{ref}/satisfaction" in page.text
    rated = await client.post_form(f"/tickets/{ref}/satisfaction", {"score": "5", "comment": "Süper"})
    assert rated.status_code == 303
    row = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    assert (row["score"], row["comment"]) == (5, "Süper")
    assert "Süper" in (await client.get(f"/tickets/{ref}")).text
    # Another customer: 404, nothing changed.
    await client.post_form("/logout")
    await login(client, bob)
    assert (await client.post_form(f"/tickets/{ref}/satisfaction", {"score": "1"})).status_code == 404
    assert (await SurveyRequest.select().where(SurveyRequest.id == row["id"]).first())["score"] == 5
    # The guest link of the solved mail rates too.
    guest = link_in([m for m in await outbox_to(alice.email) if m["template"] == "ticket-solved"][-1]["body_text"],
                    "/t/")
    assert (await client.post_form(f"{guest}/satisfaction", {"score": "4"})).status_code == 303
    assert (await SurveyRequest.select().where(SurveyRequest.id == row["id"]).first())["score"] == 4
    assert (await client.post_form("/t/forged/satisfaction", {"score": "4"})).status_code == 404


async def test_fatigue_and_opt_out_keep_the_scores_out_of_the_solved_mail(client, alice, carol):
    await _solved_ticket(alice.id, carol.id, subject="Bir")
    await _solved_ticket(alice.id, carol.id, subject="İki")
    solved = [m for m in await outbox_to(alice.email) if m["template"] == "ticket-solved"]
    assert len(solved) == 2
    assert "/s/" in solved[0]["body_text"] and "/s/" not in solved[1]["body_text"]
    # Opting out from the first mail: no survey again even after the interval.
    opt = link_in(solved[0]["body_text"], "/s/").split("?")[0]
    opt = opt if opt.endswith("/opt-out") else opt + "/opt-out"
    confirm = await client.get(opt)
    assert confirm.status_code == 200 and await OptOut.count() == 0
    assert (await client.post_form(opt)).status_code == 200 and await OptOut.count() == 1
    await SurveyRequest.update({SurveyRequest.sent_at: now() - timedelta(days=60)}).where(
        SurveyRequest.sent_at.is_not_null())
    await _solved_ticket(alice.id, carol.id, subject="Üç")
    last = [m for m in await outbox_to(alice.email) if m["template"] == "ticket-solved"][-1]
    assert "/s/" not in last["body_text"]
    assert await Outbox.count().where(Outbox.template == "ticket-solved") == 3


async def test_api_ticket_json_carries_satisfaction(client, alice, carol):
    from portal.accounts import service as accounts

    token = await accounts.create_api_token("crm", now=now())
    auth = {"Authorization": f"Bearer {token}"}
    ticket = await _solved_ticket(alice.id, carol.id)
    ref = f"T-{ticket['number']}"
    assert (await client.get(f"/api/v1/tickets/{ref}", headers=auth)).json()["satisfaction"] is None
    path = (await _score_link(alice.email)).split("?")[0]
    await client.post_form(path, {"score": "5", "comment": "Teşekkürler"})
    body = (await client.get(f"/api/v1/tickets/{ref}", headers=auth)).json()
    assert body["satisfaction"] == {"score": 5, "comment": "Teşekkürler"}
    items = (await client.get("/api/v1/tickets", headers=auth)).json()["items"]
    assert [i["satisfaction"] for i in items if i["ref"] == ref] == [{"score": 5, "comment": "Teşekkürler"}]


async def test_staff_see_answers_on_customer_and_ticket_pages(client, other_client, alice, carol, erin):
    ticket = await _solved_ticket(alice.id, carol.id)
    path = (await _score_link(alice.email)).split("?")[0]
    await staff_login(other_client, erin)
    panel = await other_client.get(f"/staff/tickets/T-{ticket['number']}")
    assert panel.status_code == 200 and 'id="csat-title"' in panel.text
    await client.post_form(path, {"score": "5", "comment": "Harika destek"})
    panel = await other_client.get(f"/staff/tickets/T-{ticket['number']}")
    assert "Harika destek" in panel.text and "Carol Kaya" in panel.text
    page = await other_client.get(f"/staff/customers/{alice.id}")
    assert page.status_code == 200 and 'id="surveys-title"' in page.text and "Harika destek" in page.text


async def test_data_download_and_erasure_cover_survey_answers(client, alice, carol):
    from portal.accounts import service as accounts

    ticket = await _solved_ticket(alice.id, carol.id)
    path = (await _score_link(alice.email)).split("?")[0]
    await client.post_form(path, {"score": "4", "comment": "Adresim: Kadıköy"})
    exported = await accounts.export_customer(alice.id)
    answers = exported["surveys"]["answers"]
    assert answers[0]["ticket"] == f"T-{ticket['number']}" and answers[0]["comment"] == "Adresim: Kadıköy"
    await accounts.delete_account(alice.id, now=now())
    row = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    assert row["score"] == 4 and "Kadıköy" not in row["comment"]
    assert await OptOut.exists().where(OptOut.customer == alice.id)


async def _staff_actor(staff_id: int) -> Actor:
    from portal.accounts.tables import StaffUser, Team

    team = await Team.select(Team.id).where(Team.slug == "destek").first()
    return Actor.staff(await StaffUser.select().where(StaffUser.id == staff_id).first(), {team["id"]})


async def test_answer_stays_with_the_agent_when_the_lead_solves_again(client, alice, carol, erin):
    ticket = await _solved_ticket(alice.id, carol.id)
    path = (await _score_link(alice.email)).split("?")[0]
    assert (await client.post_form(path, {"score": "1"})).status_code == 303
    assert (await service.load(ticket["id"]))["assignee"] == erin.id  # the lead has it back
    await service.reply_as_staff(ticket["id"], await _staff_actor(erin.id), "Aradık, çözdük.", public=True,
                                 status="solved", now=now())
    row = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    assert (row["agent"], row["team"], row["score"]) == (carol.id, ticket["team"], 1)


async def test_a_racing_low_score_change_alerts_once(client, alice, carol, erin, monkeypatch):
    ticket = await _solved_ticket(alice.id, carol.id)
    row = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    await surveys.record_csat(row["id"], 4, comment=None, now=now())
    merged = surveys._merged

    async def other_post_alerts_first(ticket_id):
        # Another POST changed the score to 1 and alerted right after this one read the row.
        await SurveyRequest.update({SurveyRequest.alerted_at: now()}).where(SurveyRequest.id == row["id"])
        return await merged(ticket_id)

    monkeypatch.setattr(surveys, "_merged", other_post_alerts_first)
    recorded = await surveys.record_csat(row["id"], 2, comment=None, now=now())
    assert not recorded.alerted and recorded.request["score"] == 2
    assert not [m for m in await outbox_to(erin.email) if m["template"] == "survey-low-score"]
    assert (await service.load(ticket["id"]))["status"] == "solved"


@pytest.mark.parametrize("score", ["--3", "²", "99999999999999999999", "-0"])
async def test_odd_scores_are_never_a_500(client, alice, carol, score):
    ticket = await _solved_ticket(alice.id, carol.id)
    path = (await _score_link(alice.email)).split("?")[0]
    page = await client.get(f"{path}?score={score}")
    assert page.status_code == 200 and "checked" not in page.text
    assert (await client.post_form(path, {"score": score[:2]})).status_code == 422
    await login(client, alice)
    ref = f"T-{ticket['number']}"
    assert (await client.post_form(f"/tickets/{ref}/satisfaction", {"score": score[:2]})).status_code == 303
    assert await SurveyRequest.count().where(SurveyRequest.answered_at.is_not_null()) == 0


async def test_first_ratings_racing_share_one_request(client, alice, carol, monkeypatch):
    from portal.surveys import csat

    ticket = await _solved_ticket(alice.id, carol.id)
    await SurveyRequest.delete().where(SurveyRequest.ticket == ticket["id"])  # as if never mailed
    customer_row = surveys.customer_row

    async def other_rating_first(customer_id: int):
        # The other request inserts the ticket's row after this one looked for it.
        token, hashed = surveys.issue()
        await SurveyRequest.insert(SurveyRequest(kind="csat", customer=alice.id, ticket=ticket["id"],
                                                 created_at=now(), token_hash=hashed,
                                                 expires_at=now() + timedelta(days=30), agent=carol.id))
        monkeypatch.setattr(surveys, "customer_row", customer_row)
        return await customer_row(customer_id)

    monkeypatch.setattr(surveys, "customer_row", other_rating_first)
    fresh = await service.load(ticket["id"])
    row = await csat.ensure_for_ticket(fresh, now=now())
    assert row is not None and row["ticket"] == ticket["id"]
    assert await SurveyRequest.count().where(SurveyRequest.ticket == ticket["id"]) == 1


async def test_no_rating_when_csat_is_off_or_on_a_merged_duplicate(client, alice, carol, erin):
    from portal.surveys import csat
    from portal.tickets import merging

    ticket = await _solved_ticket(alice.id, carol.id)
    path = (await _score_link(alice.email)).split("?")[0]
    ref = f"T-{ticket['number']}"
    await login(client, alice)
    await surveys.save_config(surveys.Config(csat_enabled=False), now=now())
    assert await csat.rating_box(await service.load(ticket["id"]), now=now()) is None
    assert f"/tickets/{ref}/satisfaction" not in (await client.get(f"/tickets/{ref}")).text
    assert (await client.post_form(f"/tickets/{ref}/satisfaction", {"score": "1"})).status_code == 404
    await surveys.save_config(surveys.Config(csat_enabled=True), now=now())
    assert await csat.rating_box(await service.load(ticket["id"]), now=now()) is not None

    other = await service.open_ticket(service.NewTicket(subject="Aynı konu", body="Hâlâ yok", requester_id=alice.id),
                                      actor=Actor.customer({"id": alice.id, "name": "x"}), now=now())
    await merging.merge(ticket["id"], other.ticket["id"], actor=await _staff_actor(erin.id), now=now())
    duplicate = await service.load(ticket["id"])
    assert duplicate["merged_into"] == other.ticket["id"]
    assert await csat.rating_box(duplicate, now=now()) is None
    assert (await client.post_form(f"/tickets/{ref}/satisfaction", {"score": "1"})).status_code == 404
    assert (await client.post_form(path, {"score": "1"})).status_code == 404  # the mailed link too
    assert await SurveyRequest.count().where(SurveyRequest.answered_at.is_not_null()) == 0
    assert not await Ticket.exists().where(Ticket.follow_up_of == ticket["id"])


async def test_a_customer_who_closes_their_own_request_gets_no_solved_mail_but_can_rate(client, alice):
    from portal.surveys import csat

    opened = await service.open_ticket(service.NewTicket(subject="Fatura", body="Bir sorum var",
                                                         requester_id=alice.id),
                                       actor=Actor.customer({"id": alice.id, "name": "x"}), now=now())
    closed = await service.customer_set_status(opened.ticket["id"], Actor.customer({"id": alice.id, "name": "x"}),
                                               "close", now=now())
    assert closed["status"] == "solved"
    assert [m for m in await outbox_to(alice.email) if m["template"] == "ticket-solved"] == []
    assert await csat.rating_box(await service.load(opened.ticket["id"]), now=now()) is not None


async def test_a_call_logged_as_already_solved_asks_for_a_rating(client, alice, carol):
    """Staff may open a request already solved (a phone call handled on the line): the opening
    itself is the solve, so the requester gets the solved mail with the scores."""
    from portal.accounts.tables import StaffUser

    agent = await StaffUser.select().where(StaffUser.id == carol.id).first()
    opened = await service.open_ticket(service.NewTicket(
        subject="Telefonla çözüldü", body="Arayan müşteri", requester_id=alice.id, channel="phone",
        status="solved", assignee_id=carol.id), actor=Actor.staff(agent), now=now())
    assert opened.ticket["status"] == "solved"
    request = await SurveyRequest.select().where(SurveyRequest.ticket == opened.ticket["id"]).first()
    assert request is not None and request["agent"] == carol.id
    assert await _score_link(alice.email)
