"""/tickets, /tickets/new, /tickets/{ref} and /t/{token}: the customer's side of tickets."""

from __future__ import annotations

import pytest

from portal.clock import now
from portal.mail.tables import Outbox
from portal.orders.tables import Order
from portal.tickets import service
from portal.tickets.rules import Actor
from portal.tickets.tables import Attachment, Message, Ticket
from tests.conftest import link_in, login, outbox_to

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n"
HOSTILE = '<script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3))'


async def _order(number: str, customer_id: int, email: str) -> None:
    from decimal import Decimal

    await Order.insert(Order(number=number, customer=customer_id, email=email, email_key=email,
                             status="shipped", total=Decimal("10.00"), currency="TRY", placed_at=now()))


async def _new(client, data: dict, files=None, htmx=False):
    body = {"_csrf_token": await client.csrf(), **data}
    headers = {"HX-Request": "true"} if htmx else {}
    return await client.post("/tickets/new", data=body, files=files, headers=headers)


async def test_my_requests_need_a_log_in(client):
    response = await client.get("/tickets")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert (await client.get("/tickets/T-1001")).status_code == 303


async def test_new_request_ignores_fields_a_customer_may_not_set(client, alice, carol):
    await login(client, alice)
    response = await _new(client, {"subject": "Kargom nerede?", "body": "Üç gündür bekliyorum.",
                                   "status": "solved", "assignee": str(carol.id), "team": "1", "public": "0",
                                   "priority": "urgent", "channel": "api", "internal": "1"})
    assert response.status_code == 303 and response.headers["location"] == "/tickets/T-1001"
    ticket = await Ticket.select().first()
    assert (ticket["status"], ticket["priority"], ticket["channel"]) == ("new", "normal", "portal")
    assert ticket["assignee"] is None and ticket["team"] is None and ticket["requester"] == alice.id
    message = await Message.select().first()
    assert message["public"] is True and message["author_kind"] == "customer"
    mails = await outbox_to(alice.email)
    assert [m["template"] for m in mails] == ["ticket-created"]
    assert link_in(mails[0]["body_text"], "/t/").startswith("/t/")
    page = await client.get("/tickets")
    assert page.status_code == 200 and "T-1001" in page.text and "Kargom nerede?" in page.text


async def test_new_request_validation_and_orders(client, alice, bob):
    await _order("SP-1", alice.id, alice.email)
    await _order("SP-2", bob.id, bob.email)
    await login(client, alice)
    form = await client.get("/tickets/new?order=SP-1")
    assert form.status_code == 200 and 'value="SP-1" selected' in form.text and "SP-2" not in form.text
    empty = await _new(client, {"subject": "", "body": ""}, htmx=True)
    assert empty.status_code == 422 and "<html" not in empty.text and 'aria-invalid="true"' in empty.text
    theirs = await _new(client, {"subject": "x", "body": "y", "order": "SP-2"})
    assert theirs.status_code == 422 and await Ticket.count() == 0
    ok = await _new(client, {"subject": "Sipariş", "body": "SP-1 hakkında", "order": "SP-1"})
    assert ok.status_code == 303
    ticket = await Ticket.select(Ticket.order.number.as_alias("n")).first()
    assert ticket["n"] == "SP-1"
    with_htmx = await _new(client, {"subject": "İkinci", "body": "htmx ile"}, htmx=True)
    assert with_htmx.status_code < 300 and with_htmx.headers["hx-redirect"] == "/tickets/T-1002"
    bad_file = await _new(client, {"subject": "x", "body": "y"},
                          files={"files": ("sayfa.html", b"<html><script>alert(1)</script>", "text/html")})
    assert bad_file.status_code == 422 and "sayfa.html" in bad_file.text and await Ticket.count() == 2


async def test_another_customer_gets_404_everywhere(client, other_client, alice, bob):
    await login(client, alice)
    response = await _new(client, {"subject": "Fatura", "body": "ekte"},
                          files={"files": ("fatura.pdf", PDF, "application/pdf")})
    assert response.status_code == 303
    attachment = await Attachment.select().first()
    page = await client.get("/tickets/T-1001")
    assert page.status_code == 200 and "fatura.pdf" in page.text
    download = await client.get(f"/tickets/T-1001/attachments/{attachment['id']}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert download.headers["x-frame-options"] == "DENY"  # its own CSP names no frame-ancestors

    await login(other_client, bob)
    assert (await other_client.get("/tickets/T-1001")).status_code == 404
    assert (await other_client.get("/tickets/T-1001", headers={"HX-Request": "true"})).status_code == 404
    assert (await other_client.get(f"/tickets/T-1001/attachments/{attachment['id']}")).status_code == 404
    reply = await other_client.post_form("/tickets/T-1001/reply", {"body": "hi"}, htmx=True)
    assert reply.status_code == 404
    assert (await other_client.post_form("/tickets/T-1001/close", {})).status_code == 404
    assert "T-1001" not in (await other_client.get("/tickets")).text
    assert await Message.count() == 1
    # Alice herself cannot reach a file through another ticket's URL either.
    assert (await client.get(f"/tickets/T-9999/attachments/{attachment['id']}")).status_code == 404


async def test_reply_close_reopen_with_and_without_htmx(client, alice, carol):
    await login(client, alice)
    await _new(client, {"subject": "Soru", "body": "ilk"})
    fragment = await client.post_form("/tickets/T-1001/reply", {"body": "ikinci", "public": "0"}, htmx=True)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'id="conversation"' in fragment.text
    assert "ikinci" in fragment.text
    assert all(m["public"] for m in await Message.select(Message.public))
    plain = await client.post_form("/tickets/T-1001/reply", {"body": "üçüncü"})
    assert plain.status_code == 303 and plain.headers["location"] == "/tickets/T-1001"
    empty = await client.post_form("/tickets/T-1001/reply", {"body": "  "}, htmx=True)
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text

    closed = await client.post_form("/tickets/T-1001/close", {})
    assert closed.status_code == 303
    assert (await Ticket.select(Ticket.status).first())["status"] == "solved"
    reopened = await client.post_form("/tickets/T-1001/reopen", {}, htmx=True)
    assert reopened.status_code == 200 and "ticket-status-open" in reopened.text


async def test_internal_notes_and_their_files_stay_internal(client, alice, carol, tmp_path, app):
    await login(client, alice)
    await _new(client, {"subject": "Soru", "body": "ilk"})
    ticket = await Ticket.select().first()
    from portal.tickets.files import Storage, Upload, check_all

    storage = Storage(app.state["settings"].var_dir / "attachments")
    staff = Actor("staff", "Carol", staff_id=carol.id, role="agent")
    await service.reply_as_staff(ticket["id"], staff, "GİZLİ NOT: iade yapmayalım", public=False, now=now(),
                                 files=check_all([Upload("ic.pdf", PDF)]), storage=storage)
    page = await client.get("/tickets/T-1001")
    assert "GİZLİ NOT" not in page.text and "ic.pdf" not in page.text
    note_file = await Attachment.select().first()
    assert (await client.get(f"/tickets/T-1001/attachments/{note_file['id']}")).status_code == 404


async def test_guest_link_from_the_mail(client, other_client, alice, app):
    await login(client, alice)
    await _new(client, {"subject": "Misafir", "body": "merhaba"})
    mail = (await outbox_to(alice.email))[0]
    path = link_in(mail["body_text"], "/t/")
    page = await other_client.get(path)  # a browser that is not logged in
    assert page.status_code == 200 and "Misafir" in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and "no-store" in page.headers["cache-control"]
    reply = await other_client.post_form(path + "/reply", {"body": "maildeki linkten yazıyorum"})
    assert reply.status_code == 303 and reply.headers["location"] == path
    assert (await Message.select(Message.author_kind).order_by(Message.id, ascending=False).first())[
        "author_kind"] == "customer"
    assert (await other_client.get(path + "x")).status_code == 404
    assert (await other_client.get("/t/" + "A" * 43)).status_code == 404
    ticket = await Ticket.select().first()
    await service.revoke_guest_tokens(ticket["id"], actor=Actor.system(), now=now())
    assert (await other_client.get(path)).status_code == 404
    assert (await other_client.post_form(path + "/reply", {"body": "x"})).status_code == 404


async def test_reply_to_a_closed_ticket_opens_a_follow_up(client, alice):
    await login(client, alice)
    await _new(client, {"subject": "Eski", "body": "ilk"})
    ticket = await Ticket.select().first()
    await Ticket.update({Ticket.status: "closed"}).where(Ticket.id == ticket["id"])
    page = await client.get("/tickets/T-1001")
    assert "ticket-status-closed" in page.text
    response = await client.post_form("/tickets/T-1001/reply", {"body": "tekrar sorun var"})
    assert response.status_code == 303 and response.headers["location"] == "/tickets/T-1002"
    follow = await Ticket.select().where(Ticket.number == 1002).first()
    assert follow["follow_up_of"] == ticket["id"] and follow["requester"] == alice.id
    hx = await client.post_form("/tickets/T-1001/reply", {"body": "bir daha"}, htmx=True)
    assert hx.headers.get("hx-redirect") == "/tickets/T-1003"


@pytest.mark.parametrize("field", ["subject", "body"])
async def test_hostile_text_is_inert_on_the_page_and_in_mail(client, alice, field):
    await login(client, alice)
    data = {"subject": "Konu", "body": "Mesaj", field: HOSTILE}
    assert (await _new(client, data)).status_code == 303
    for url in ("/tickets", "/tickets/T-1001"):
        text = (await client.get(url)).text
        assert "<script>alert(1)" not in text and "<img src=x" not in text
        assert 'href="javascript:' not in text
    mail = (await Outbox.select().first())
    assert "<script>alert(1)" not in mail["body_html"] and "<img src=x" not in mail["body_html"]
    assert 'href="javascript:' not in mail["body_html"]
    assert "&lt;script&gt;" in mail["body_html"] or field == "subject"


async def test_links_in_messages_are_http_only(client, alice):
    await login(client, alice)
    body = "bakınız https://example.com/a?b=1&c=2. ve javascript:alert(1)"
    await _new(client, {"subject": "Link", "body": body})
    text = (await client.get("/tickets/T-1001")).text
    assert 'href="https://example.com/a?b=1&amp;c=2"' in text
    assert 'rel="noopener noreferrer nofollow ugc"' in text
    assert 'href="javascript' not in text
