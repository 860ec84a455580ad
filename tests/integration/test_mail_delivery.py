"""The outbox → worker → SMTP path against a real SMTP server (aiosmtpd), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.jobs.worker import Worker
from portal.mail import sender
from portal.mail import service as outbox
from portal.mail.tables import Outbox
from tests.integration.conftest import SmtpSink, free_port

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


async def queue_verify(to: str = "ayse@example.com", name: str = "Ayşe Yılmaz", **kwargs) -> int:
    kwargs.setdefault("now", NOW)
    return await outbox.enqueue("verify-email", to=to, name=name, locale="tr",
                                context={"token": "tok-123", "hours": 24}, **kwargs)


async def row(mail_id: int) -> dict:
    return await Outbox.select().where(Outbox.id == mail_id).first()


async def test_queued_mail_is_delivered_exactly_once(client, settings, smtp_sink):
    mail_id = await queue_verify()
    worker = Worker(smtp_sink.settings(settings))

    assert await worker.run_once(NOW) == 1
    assert await worker.run_once(NOW + timedelta(hours=2)) == 0

    assert len(smtp_sink.handler.received) == 1
    stored = await row(mail_id)
    assert stored["sent_at"] == NOW
    assert stored["attempts"] == 1
    assert stored["failed_at"] is None and stored["last_error"] == ""

    received = smtp_sink.handler.received[0]
    assert received.rcpt_tos == ["ayse@example.com"]
    assert received.mail_from == "support@localhost"
    msg = received.message
    assert msg["From"] == "Portal <support@localhost>"
    assert msg["To"] == "Ayşe Yılmaz <ayse@example.com>"
    assert msg["Subject"] == stored["subject"] and msg["Subject"]
    assert msg["Message-ID"] == stored["message_id"]
    assert msg["Date"]
    # The Turkish name travels RFC 2047-encoded: the raw header is pure ASCII.
    raw_headers = received.raw.split(b"\r\n\r\n", 1)[0]
    raw_to = [line for line in raw_headers.split(b"\r\n") if line.lower().startswith(b"to:")][0]
    assert b"=?utf-8?" in raw_to.lower() and raw_to.isascii()
    assert raw_headers.isascii()
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "http://portal.test/verify/tok-123" in text
    assert 'href="http://portal.test/verify/tok-123"' in html
    assert "Ayşe Yılmaz" in text


async def test_without_smtp_configured_mail_stays_in_the_outbox(client, settings):
    mail_id = await queue_verify()
    assert await Worker(settings).run_once(NOW) == 0
    stored = await row(mail_id)
    assert stored["sent_at"] is None and stored["attempts"] == 0 and stored["lock_token"] is None


async def test_mail_that_is_not_due_yet_waits(client, settings, smtp_sink):
    await queue_verify(delay=timedelta(minutes=10))
    worker = Worker(smtp_sink.settings(settings))
    assert await worker.run_once(NOW) == 0
    assert await worker.run_once(NOW + timedelta(minutes=10)) == 1
    assert len(smtp_sink.handler.received) == 1


async def test_one_connection_carries_a_whole_batch(client, settings, smtp_sink):
    for i in range(7):
        await queue_verify(to=f"user{i}@example.com", name=f"User {i}")
    assert await Worker(smtp_sink.settings(settings)).run_once(NOW) == 7
    assert len(smtp_sink.handler.received) == 7
    assert smtp_sink.handler.connections == 1
    assert sorted(r.rcpt_tos[0] for r in smtp_sink.handler.received) == sorted(
        f"user{i}@example.com" for i in range(7))


async def test_batches_each_use_one_connection(client, settings, smtp_sink):
    for i in range(5):
        await queue_verify(to=f"user{i}@example.com")
    assert await Worker(smtp_sink.settings(settings), batch_size=2).run_once(NOW) == 5
    assert smtp_sink.handler.connections == 3  # 2 + 2 + 1


async def test_server_down_keeps_mail_queued_until_it_comes_back(client, settings):
    port = free_port()  # nothing listens here
    sink = SmtpSink(port)
    worker = Worker(sink.settings(settings))
    mail_id = await queue_verify()

    assert await worker.run_once(NOW) == 0
    stored = await row(mail_id)
    assert stored["sent_at"] is None and stored["failed_at"] is None
    assert stored["attempts"] == 1
    assert stored["run_after"] == NOW + sender.backoff(1)
    assert stored["last_error"].startswith("connect:")
    assert stored["lock_token"] is None and stored["locked_until"] is None

    # Still down at the next attempt: the wait doubles.
    later = NOW + sender.backoff(1)
    assert await worker.run_once(later) == 0
    stored = await row(mail_id)
    assert stored["attempts"] == 2 and stored["run_after"] == later + sender.backoff(2)

    sink.start()
    try:
        assert await worker.run_once(later) == 0  # not due yet: no early retry
        assert sink.handler.received == []
        back = later + sender.backoff(2)
        assert await worker.run_once(back) == 1
        assert await worker.run_once(back + timedelta(hours=1)) == 0
        assert len(sink.handler.received) == 1
        stored = await row(mail_id)
        assert stored["sent_at"] == back and stored["attempts"] == 3 and stored["last_error"] == ""
    finally:
        sink.stop()


async def test_permanent_refusal_marks_the_mail_failed(client, settings, smtp_sink):
    smtp_sink.handler.refuse["nobody@example.com"] = "550 5.1.1 No such user here"
    bad = await queue_verify(to="nobody@example.com")
    good = await queue_verify(to="ayse@example.com")
    worker = Worker(smtp_sink.settings(settings))

    assert await worker.run_once(NOW) == 1
    failed = await row(bad)
    assert failed["failed_at"] == NOW and failed["sent_at"] is None
    assert "550" in failed["last_error"] and "No such user" in failed["last_error"]
    assert (await row(good))["sent_at"] == NOW
    # The refused mail is never tried again; the same connection carried on after the refusal.
    assert await worker.run_once(NOW + timedelta(days=1)) == 0
    assert [r.rcpt_tos for r in smtp_sink.handler.received] == [["ayse@example.com"]]
    assert smtp_sink.handler.connections == 1


async def test_temporary_refusal_is_retried_later(client, settings, smtp_sink):
    smtp_sink.handler.refuse["busy@example.com"] = "450 4.2.1 Mailbox busy, try later"
    mail_id = await queue_verify(to="busy@example.com")
    worker = Worker(smtp_sink.settings(settings))

    assert await worker.run_once(NOW) == 0
    stored = await row(mail_id)
    assert stored["failed_at"] is None and stored["sent_at"] is None
    assert "450" in stored["last_error"] and stored["run_after"] == NOW + sender.backoff(1)

    del smtp_sink.handler.refuse["busy@example.com"]
    assert await worker.run_once(NOW + sender.backoff(1)) == 1
    assert len(smtp_sink.handler.received) == 1


async def test_gives_up_after_the_last_attempt(client, settings):
    sink = SmtpSink(free_port())  # never started
    mail_id = await queue_verify()
    await Outbox.update({Outbox.attempts: sender.MAX_ATTEMPTS - 1}).where(Outbox.id == mail_id)
    assert await Worker(sink.settings(settings)).run_once(NOW) == 0
    stored = await row(mail_id)
    assert stored["failed_at"] == NOW and stored["attempts"] == sender.MAX_ATTEMPTS


async def test_crashed_workers_claim_is_taken_over_after_its_lease(client, settings, smtp_sink):
    mail_id = await queue_verify()
    claimed = await sender.claim(NOW)  # a worker that claimed the row, then died
    assert [r["id"] for r in claimed] == [mail_id]
    worker = Worker(smtp_sink.settings(settings))

    assert await worker.run_once(NOW + timedelta(seconds=1)) == 0  # leased: nobody else sends it
    assert smtp_sink.handler.received == []
    assert await worker.run_once(NOW + sender.LEASE + timedelta(seconds=1)) == 1
    # The dead worker's late "sent" does not count: its lock token is no longer the row's.
    await sender._mark_sent(claimed[0], NOW)
    stored = await row(mail_id)
    assert stored["sent_at"] == NOW + sender.LEASE + timedelta(seconds=1)
    assert stored["attempts"] == 2
    assert len(smtp_sink.handler.received) == 1
