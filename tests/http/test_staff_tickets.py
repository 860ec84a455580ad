"""/staff/tickets/{ref}: conversation with notes, reply or note, every field, concurrency."""

from __future__ import annotations

from portal.accounts import service as accounts
from portal.accounts.tables import Team
from portal.clock import now
from portal.mail.tables import Outbox
from portal.tickets import service
from portal.tickets.rules import Actor
from portal.tickets.tables import GuestToken, Message, Ticket
from tests.conftest import login, outbox_to, staff_login

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)"> [x](javascript:alert(3)) {{ 7*7 }}'


async def _ticket(email="ayse@example.com", name="Ayşe Yılmaz", subject="Kargom gelmedi", team=None, **kw):
    customer = await accounts.find_or_create_customer(email, name=name, now=now())
    team_id = None
    if team:
        team_id = (await accounts.ensure_team(team))["id"]
    new = service.NewTicket(subject=subject, body=kw.pop("body", "Merhaba"), requester_id=customer["id"],
                            team_id=team_id, **kw)
    return (await service.open_ticket(new, actor=Actor.customer(customer), now=now())).ticket


async def test_staff_only(client, alice):
    await _ticket()
    response = await client.get("/staff/tickets/T-1001")
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")
    await login(client, alice)
    assert (await client.get("/staff/tickets/T-1001")).status_code == 303


async def test_page_shows_notes_distinctly_and_the_customer(client, carol):
    ticket = await _ticket()
    lead = Actor("staff", "Erin", role="lead")
    await service.reply_as_staff(ticket["id"], lead, "İç not: VIP", public=False, now=now())
    await staff_login(client, carol)
    page = await client.get("/staff/tickets/T-1001")
    assert page.status_code == 200
    assert "message-internal" in page.text and "İç not: VIP" in page.text
    assert "Ayşe Yılmaz" in page.text and f"/staff/customers/{ticket['requester']}" in page.text
    assert (await client.get("/staff/tickets/T-9999")).status_code == 404


async def test_reply_and_note_with_and_without_htmx(client, carol):
    await _ticket()
    await staff_login(client, carol)
    page = await client.get("/staff/tickets/T-1001")
    version = page.text.split('name="version" value="')[1].split('"')[0]
    reply = await client.post_form("/staff/tickets/T-1001/reply", {"body": "Kargonuz yolda", "kind": "reply",
                                                                   "status": "pending", "version": version})
    assert reply.status_code == 303
    ticket = await Ticket.select().first()
    assert ticket["status"] == "pending" and ticket["first_response_at"] is not None
    assert (await outbox_to("ayse@example.com"))[-1]["template"] == "ticket-reply"
    before = await Outbox.count()
    note = await client.post_form("/staff/tickets/T-1001/reply", {"body": "not", "kind": "note"}, htmx=True)
    assert note.status_code == 200 and "<html" not in note.text and 'id="ticket"' in note.text
    assert await Outbox.count() == before
    empty = await client.post_form("/staff/tickets/T-1001/reply", {"body": "", "kind": "reply"}, htmx=True)
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text


async def test_two_agents_save_the_same_ticket(client, other_client, carol, erin):
    await _ticket()
    await staff_login(client, carol)
    await staff_login(other_client, erin)
    team = (await Team.select().where(Team.slug == "destek").first())["id"]
    fields = {"status": "new", "priority": "normal", "team": "", "assignee": "", "order": "", "tags": "",
              "version": "1"}
    first = await client.post_form("/staff/tickets/T-1001/fields", {**fields, "priority": "high"})
    assert first.status_code == 303
    second = await other_client.post_form("/staff/tickets/T-1001/fields",
                                          {**fields, "priority": "low", "team": str(team), "tags": "acil"},
                                          htmx=True)
    assert second.status_code == 422 and "stale-notice" in second.text
    # The second agent's choices are still in the form; nothing of them was saved.
    assert 'value="acil"' in second.text and f'<option value="{team}" selected>' in second.text
    ticket = await Ticket.select().first()
    assert ticket["priority"] == "high" and ticket["team"] is None and ticket["version"] == 2
    assert 'name="version" value="2"' in second.text
    again = await other_client.post_form("/staff/tickets/T-1001/fields",
                                         {**fields, "priority": "low", "team": str(team), "version": "2"})
    assert again.status_code == 303
    assert (await Ticket.select(Ticket.priority).first())["priority"] == "low"


async def test_stale_reply_with_a_status_keeps_the_text(client, carol):
    await _ticket()
    await staff_login(client, carol)
    ticket = await Ticket.select().first()
    await service.reply_as_customer(ticket["id"], Actor("customer", "Ayşe", customer_id=ticket["requester"]),
                                    "bir şey daha", now=now())
    response = await client.post_form("/staff/tickets/T-1001/reply", {
        "body": "Uzun cevabım", "kind": "reply", "status": "solved", "version": "1"}, htmx=True)
    assert response.status_code == 422 and "Uzun cevabım" in response.text
    assert (await Ticket.select(Ticket.status).first())["status"] == "new"
    assert await Message.count() == 2


async def test_agents_of_another_team_may_read_and_note_but_not_change(client, carol):
    await _ticket(team="satis")
    await staff_login(client, carol)  # carol is in "destek"
    page = await client.get("/staff/tickets/T-1001")
    assert page.status_code == 200 and 'action="/staff/tickets/T-1001/fields"' not in page.text
    fields = {"status": "open", "priority": "urgent", "team": "", "assignee": "", "order": "", "tags": "",
              "version": "1"}
    refused = await client.post_form("/staff/tickets/T-1001/fields", fields, htmx=True)
    assert refused.status_code == 422
    assert (await Ticket.select(Ticket.priority).first())["priority"] == "normal"
    reply = await client.post_form("/staff/tickets/T-1001/reply", {"body": "cevap", "kind": "reply"},
                                   htmx=True)
    assert reply.status_code == 422
    note = await client.post_form("/staff/tickets/T-1001/reply", {"body": "not", "kind": "note"})
    assert note.status_code == 303


async def test_canned_replies_fill_name_and_order_without_templating(client, erin):
    ticket = await _ticket(name="{{ 7*7 }} <b>Ali</b>")
    await staff_login(client, erin)
    saved = await client.post_form("/staff/settings/canned-replies", {
        "title": "Selam", "body": "Merhaba {{ customer_name }}, siparişiniz {{order_number}}. {{ 3*3 }}",
        "language": "tr", "team": ""})
    assert saved.status_code == 303
    from portal.tickets.tables import CannedReply

    reply_id = (await CannedReply.select(CannedReply.id).first())["id"]
    fragment = await client.get(f"/staff/tickets/T-1001?canned_id={reply_id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "Merhaba {{ 7*7 }} &lt;b&gt;Ali&lt;/b&gt;, siparişiniz . {{ 3*3 }}" in fragment.text
    assert "Merhaba 49" not in fragment.text and ". 9" not in fragment.text
    assert ticket["id"]


async def test_revoking_guest_links(client, carol):
    await _ticket()
    await staff_login(client, carol)
    response = await client.post_form("/staff/tickets/T-1001/guest-links/revoke", {})
    assert response.status_code == 303
    assert all(t["revoked_at"] is not None for t in await GuestToken.select())


async def test_hostile_text_is_inert_on_staff_pages(client, carol):
    await _ticket(subject=HOSTILE, body=HOSTILE, name=HOSTILE)
    await staff_login(client, carol)
    for url in ("/staff/tickets/T-1001", "/staff/queue"):
        text = (await client.get(url)).text
        assert "<script>alert(1)" not in text and "<img src=x" not in text and 'href="javascript:' not in text
        assert "{{ 7*7 }}" in text  # shown as typed, never evaluated


async def test_merge_a_duplicate_of_the_same_customer(client, carol):
    first = await _ticket(subject="Kargo nerede?")
    await _ticket(subject="Kargo nerede? (tekrar)", body="ikinci kez yazıyorum")
    other = await _ticket(email="bob@example.com", name="Bob", subject="Başka biri")
    await staff_login(client, carol)
    refused = await client.post_form("/staff/tickets/T-1003/merge", {"into": "T-1001"}, htmx=True)
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    assert await Message.count().where(Message.ticket == other["id"]) == 1
    assert (await client.post_form("/staff/tickets/T-1002/merge", {"into": "T-1002"})).status_code == 422
    assert (await client.post_form("/staff/tickets/T-1002/merge", {"into": "T-99"})).status_code == 422

    merged = await client.post_form("/staff/tickets/T-1002/merge", {"into": "T-1001"})
    assert merged.status_code == 303 and merged.headers["location"] == "/staff/tickets/T-1001"
    bodies = await Message.select(Message.body).where(Message.ticket == first["id"]).output(as_list=True)
    assert bodies == ["Merhaba", "ikinci kez yazıyorum"]
    duplicate = await Ticket.select().where(Ticket.number == 1002).first()
    assert duplicate["status"] == "closed" and duplicate["merged_into"] == first["id"]
    # The links mailed for the duplicate now open the ticket the conversation went to.
    mails = await outbox_to("ayse@example.com")
    link = [m for m in mails if "[T-1002]" in m["subject"]][0]["body_text"].split("/t/")[1].split()[0]
    page = await client.get(f"/t/{link}")
    assert page.status_code == 200 and "T-1001" in page.text and "ikinci kez" in page.text
    again = await client.post_form("/staff/tickets/T-1002/merge", {"into": "T-1001"})
    assert again.status_code == 422
