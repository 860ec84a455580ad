"""/staff/customers/{id}, customer search, tags (page and suggestions), logging a phone call."""

from __future__ import annotations

from portal.accounts import service as accounts
from portal.clock import now
from portal.tags import service as tags
from portal.tickets import service
from portal.tickets.rules import Actor
from portal.tickets.tables import CustomerNote, Message, Ticket
from tests.conftest import outbox_to, staff_login


async def _customer(email="ayse@example.com", name="Ayşe Yılmaz", phone="+905321234567") -> dict:
    return await accounts.find_or_create_customer(email, name=name, phone=phone, now=now())


async def test_customer_page_notes_and_tags(client, carol):
    person = await _customer()
    new = service.NewTicket(subject="Kargo", body="?", requester_id=person["id"], notify_requester=False)
    await service.open_ticket(new, actor=Actor.customer(person), now=now())
    await staff_login(client, carol)
    page = await client.get(f"/staff/customers/{person['id']}")
    assert page.status_code == 200 and "T-1001" in page.text and "+905321234567" in page.text
    assert (await client.get("/staff/customers/999999")).status_code == 404
    note = await client.post_form(f"/staff/customers/{person['id']}/notes",
                                  {"body": "<script>alert(1)</script>\nikinci satır"}, htmx=True)
    assert note.status_code == 200 and "<script>alert(1)" not in note.text and "&lt;script&gt;" in note.text
    assert (await CustomerNote.select().first())["author_name"] == carol.name
    empty = await client.post_form(f"/staff/customers/{person['id']}/notes", {"body": " "}, htmx=True)
    assert empty.status_code == 422
    tagged = await client.post_form(f"/staff/customers/{person['id']}/tags", {"tags": "VIP, İstanbul"})
    assert tagged.status_code == 303
    assert (await tags.of("customer", [person["id"]]))[person["id"]] == ["İstanbul", "VIP"]
    tag_page = await client.get("/staff/tags/vip")
    assert tag_page.status_code == 200 and "Ayşe Yılmaz" in tag_page.text
    assert (await client.get("/staff/tags/yok-boyle-etiket")).status_code == 404


async def test_tag_suggestions_most_used_first(client, carol):
    a, b = await _customer(), await _customer("b@example.com", "B", None)
    await tags.add("customer", [a["id"], b["id"]], ["kargo"], by=None, now=now())
    await tags.add("customer", [a["id"]], ["kampanya"], by=None, now=now())
    await staff_login(client, carol)
    response = await client.get("/staff/tags/suggest?tags=vip,%20ka", headers={"HX-Request": "true"})
    assert response.status_code == 200
    options = response.text.split('<option value="')[1:]
    assert [o.split('"')[0] for o in options] == ["vip, kargo", "vip, kampanya"]


async def test_customer_search_by_phone_email_or_name(client, carol):
    await _customer()
    await _customer("mehmet@example.com", "Mehmet Demir", "+905339876543")
    await staff_login(client, carol)

    async def found(q: str) -> bool:
        response = await client.get("/staff/customers/search", params={"q": q, "pick": "1"},
                                    headers={"HX-Request": "true"})
        assert response.status_code == 200 and "<html" not in response.text
        return "ayse@example.com" in response.text

    assert await found("0532 123 45 67") and await found("+90 532 123")
    assert await found("ayse@") and await found("Yılmaz")
    assert not await found("0533 987") and not await found("x")
    page = await client.get("/staff/customers/search?q=ayse")
    assert "<html" in page.text and "ayse@example.com" in page.text


async def test_log_a_phone_call_for_a_known_customer(client, carol):
    person = await _customer()
    await staff_login(client, carol)
    form = await client.get(f"/staff/tickets/new?customer_id={person['id']}")
    assert form.status_code == 200 and "Ayşe Yılmaz" in form.text
    response = await client.post_form("/staff/tickets/new", {
        "customer_id": str(person["id"]), "subject": "Telefonla iade", "body": "Müşteri aradı, iade istiyor.",
        "channel": "phone", "priority": "high", "status": "open", "team": "", "assignee": str(carol.id),
        "order": "", "notify": "1"})
    assert response.status_code == 303 and response.headers["location"] == "/staff/tickets/T-1001"
    ticket = await Ticket.select().first()
    assert (ticket["channel"], ticket["status"], ticket["priority"]) == ("phone", "open", "high")
    assert ticket["requester"] == person["id"] and ticket["assignee"] == carol.id
    message = await Message.select().first()
    assert message["author_kind"] == "staff" and message["author_staff"] == carol.id
    assert [m["template"] for m in await outbox_to(person["email"])] == ["ticket-created"]
    assert await outbox_to(carol.email) == []  # she assigned it to herself


async def test_log_a_phone_call_for_a_new_customer_and_validation(client, carol):
    await staff_login(client, carol)
    bad = await client.post_form("/staff/tickets/new", {
        "customer_id": "", "email": "not-an-address", "subject": "", "body": "", "channel": "fax",
        "priority": "normal", "status": "open", "team": "abc", "assignee": "", "order": "SP-NONE"})
    assert bad.status_code == 422 and bad.text.count('aria-invalid="true"') >= 3
    assert await Ticket.count() == 0
    ok = await client.post_form("/staff/tickets/new", {
        "customer_id": "", "email": "yeni@example.com", "name": "Yeni Müşteri", "phone": "05551112233",
        "subject": "Soru", "body": "Arayıp sordu", "channel": "phone", "priority": "normal", "status": "new",
        "team": "", "assignee": "", "order": ""})
    assert ok.status_code == 303
    assert await outbox_to("yeni@example.com") == []  # "mail the customer" was not ticked
