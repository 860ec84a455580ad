"""Ticket mail over a real SMTP peer: one thread per ticket (Message-ID, In-Reply-To,
References), a Reply-To naming the ticket, and customer text inert in the HTML part."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.accounts import service as accounts
from portal.mail import sender
from portal.tickets import service
from portal.tickets.rules import Actor

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def test_a_ticket_is_one_thread_and_names_itself_in_reply_to(client, settings, smtp_sink):
    customer = await accounts.find_or_create_customer("ayse@example.com", name="Ayşe <b>Y</b>", now=T0)
    agent = await accounts.create_staff(email="mert@example.com", name="Mert", role="agent",
                                        password_hash="x", now=T0, team="destek")
    opened = await service.open_ticket(service.NewTicket(
        subject="Kargo\r\nBcc: evil@example.com", body="<script>alert(1)</script>\nikinci satır",
        requester_id=customer["id"]), actor=Actor.customer(customer), now=T0)
    ticket = opened.ticket
    staff = Actor.staff(agent, set())
    await service.reply_as_staff(ticket["id"], staff, "Merhaba, kargonuz yolda.", public=True, now=T0)
    await service.reply_as_staff(ticket["id"], staff, "Teslim edildi mi?", public=True, now=T0)
    assert await sender.send_batch(smtp_sink.settings(settings), now=T0) == 3

    first, second, third = smtp_sink.handler.messages()
    assert smtp_sink.handler.received[0].rcpt_tos == ["ayse@example.com"]  # no injected Bcc
    assert "Bcc" not in first and "[T-1001]" in first["Subject"]
    reply_to = f"support+T-1001.{ticket['reply_key']}@localhost"
    assert all(m["Reply-To"] == reply_to for m in (first, second, third))
    assert first["Auto-Submitted"] == "auto-replied" and second["Auto-Submitted"] is None
    assert "In-Reply-To" not in first
    assert second["In-Reply-To"] == first["Message-ID"]
    assert third["In-Reply-To"] == second["Message-ID"]
    assert third["References"].split() == [first["Message-ID"], second["Message-ID"]]
    assert len({m["Message-ID"] for m in (first, second, third)}) == 3

    html = first.get_body(("html",)).get_content()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html and "<br>" in html
    assert "<b>Y</b>" not in html
    text = first.get_body(("plain",)).get_content()
    assert f"/t/{opened.guest_token}" in text
