"""Coalescing: rapid changes reach the customer as one mail with the latest content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.jobs.worker import Worker
from portal.mail import sender
from portal.mail import service as outbox
from portal.mail.tables import Outbox

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


async def queue(token: str, *, key: str | None = "order:SP-1", now: datetime = NOW,
                delay: timedelta = timedelta(0)) -> int:
    return await outbox.enqueue("verify-email", to="ayse@example.com", name="Ayşe", locale="tr",
                                context={"token": token, "hours": 24}, now=now, coalesce_key=key, delay=delay)


async def test_two_enqueues_with_one_key_send_one_mail_with_the_latest_content(client, settings, smtp_sink):
    first = await queue("first-token")
    second = await queue("second-token", now=NOW + timedelta(seconds=5))
    assert first == second
    assert await Outbox.count() == 1

    assert await Worker(smtp_sink.settings(settings)).run_once(NOW + timedelta(seconds=5)) == 1
    [received] = smtp_sink.handler.received
    text = received.message.get_body(("plain",)).get_content()
    assert "second-token" in text and "first-token" not in text


async def test_a_later_change_pushes_the_send_time_back(client):
    mail_id = await queue("a", delay=timedelta(minutes=2))
    await queue("b", now=NOW + timedelta(minutes=1), delay=timedelta(minutes=2))
    row = await Outbox.select(Outbox.run_after).where(Outbox.id == mail_id).first()
    assert row["run_after"] == NOW + timedelta(minutes=3)


async def test_different_keys_and_no_key_are_separate_mails(client):
    await queue("a", key="order:SP-1")
    await queue("b", key="order:SP-2")
    await queue("c", key=None)
    await queue("d", key=None)
    assert await Outbox.count() == 4


async def test_a_mail_already_sent_is_not_rewritten(client, settings, smtp_sink):
    first = await queue("first-token")
    assert await Worker(smtp_sink.settings(settings)).run_once(NOW) == 1
    second = await queue("second-token", now=NOW + timedelta(minutes=1))
    assert second != first
    sent = await Outbox.select(Outbox.body_text).where(Outbox.id == first).first()
    assert "first-token" in sent["body_text"]


async def test_a_mail_being_sent_is_not_rewritten_and_the_new_content_is_not_lost(client):
    first = await queue("first-token")
    claimed = await sender.claim(NOW)  # a worker is sending it right now
    assert [r["id"] for r in claimed] == [first]
    second = await queue("second-token", now=NOW + timedelta(seconds=1))
    assert second != first
    rows = await Outbox.select(Outbox.id, Outbox.body_text).order_by(Outbox.id)
    assert "first-token" in rows[0]["body_text"] and "second-token" in rows[1]["body_text"]
