"""Header injection: text that reaches a header (names, subjects, extra headers) cannot add
one, whether it came through ``enqueue`` or was written into the outbox some other way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.jobs.worker import Worker
from portal.mail import service as outbox
from portal.mail.tables import Outbox

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
EVIL = "Ayşe\r\nBcc: victim@example.com\r\nX-Injected: yes"


def header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0].lower() for line in head.split("\r\n") if line and not line[0].isspace()]


async def test_name_and_extra_headers_cannot_add_a_header(client, settings, smtp_sink):
    await outbox.enqueue("verify-email", to="ayse@example.com", name=EVIL, locale="tr",
                         context={"token": "t", "hours": 24}, now=NOW,
                         headers={"X-Portal-Ticket": "T-1\r\nBcc: victim@example.com",
                                  "In-Reply-To": "<a@b>\n"})
    assert await Worker(smtp_sink.settings(settings)).run_once(NOW) == 1

    [received] = smtp_sink.handler.received
    assert received.rcpt_tos == ["ayse@example.com"]
    names = header_names(received.raw)
    assert "bcc" not in names and "x-injected" not in names
    assert names.count("to") == 1
    msg = received.message
    assert "\n" not in msg["To"] and "victim@example.com" in msg["To"]  # harmless text in the name
    assert msg["X-Portal-Ticket"] == "T-1 Bcc: victim@example.com"
    assert msg["In-Reply-To"] == "<a@b>"


async def test_a_row_written_with_line_breaks_still_cannot_add_a_header(client, settings, smtp_sink):
    # Not through enqueue(): the sender cleans header values again before building the message.
    await Outbox(template="raw", to_addr="ayse@example.com", to_name="Ayşe\nCc: victim@example.com",
                 subject="Hello\r\nX-Injected: yes", body_text="hi", body_html="",
                 message_id="<m1@localhost>", headers={"X-Note": "a\r\nBcc: victim@example.com"},
                 created_at=NOW, run_after=NOW).save()
    assert await Worker(smtp_sink.settings(settings)).run_once(NOW) == 1

    [received] = smtp_sink.handler.received
    assert received.rcpt_tos == ["ayse@example.com"]
    names = header_names(received.raw)
    assert not {"bcc", "cc", "x-injected"} & set(names)
    assert received.message["Subject"] == "Hello X-Injected: yes"
    assert received.message.get_content_type() == "text/plain"  # no HTML part when there is no HTML


async def test_a_row_with_a_reserved_extra_header_fails_and_adds_no_recipient(client, settings, smtp_sink):
    await Outbox(template="raw", to_addr="ayse@example.com", subject="Hi", body_text="hi", body_html="",
                 message_id="<m2@localhost>", headers={"Bcc": "victim@example.com"}, created_at=NOW,
                 run_after=NOW).save()
    assert await Worker(smtp_sink.settings(settings)).run_once(NOW) == 0
    assert smtp_sink.handler.received == []
    row = await Outbox.select(Outbox.failed_at, Outbox.last_error).first()
    assert row["failed_at"] == NOW and "invalid message" in row["last_error"]


@pytest.mark.parametrize("name", ["Subject", "To", "bcc", "Bad Name", "X-A\r\nBcc", "", "Content-Type"])
async def test_reserved_or_malformed_header_names_are_refused(client, name):
    with pytest.raises(ValueError):
        await outbox.enqueue("verify-email", to="ayse@example.com", locale="tr",
                             context={"token": "t", "hours": 24}, now=NOW, headers={name: "x"})
    assert await Outbox.count() == 0
