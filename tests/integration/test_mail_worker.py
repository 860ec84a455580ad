"""The worker loop: wakes on enqueue, survives errors, stops on cancel, keeps house."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from portal.accounts.tables import AuthToken
from portal.clock import now as wall_clock
from portal.jobs import worker as worker_module
from portal.jobs.worker import Worker, stop_task
from portal.mail import service as outbox

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


async def queue(to: str = "ayse@example.com", now: datetime = NOW) -> int:
    return await outbox.enqueue("verify-email", to=to, name="Ayşe", locale="tr",
                                context={"token": "t", "hours": 24}, now=now)


async def until(predicate, *, limit: float = 10.0) -> None:
    """Wait for something another task or thread does; the limit only stops a broken test."""
    async with asyncio.timeout(limit):
        while not predicate():  # noqa: ASYNC110 - the SMTP server's thread has no event to give us
            await asyncio.sleep(0.02)


async def stop(task: asyncio.Task) -> None:
    await stop_task(task)
    assert task.done()


async def test_enqueue_wakes_the_worker_without_waiting_for_the_poll(client, settings, smtp_sink):
    # With an hour between polls, only the enqueue hook can make this mail go out.
    worker = Worker(smtp_sink.settings(settings), clock=lambda: NOW, poll_seconds=3600)
    task = asyncio.create_task(worker.run_forever())
    try:
        await until(lambda: worker.passes >= 1)  # its first (empty) pass is over: it sleeps now
        await queue()
        await until(lambda: len(smtp_sink.handler.received) == 1)
    finally:
        await stop(task)


async def test_the_worker_polls_for_mail_queued_elsewhere(client, settings, smtp_sink):
    worker = Worker(smtp_sink.settings(settings), clock=lambda: NOW, poll_seconds=0.05)
    task = asyncio.create_task(worker.run_forever())
    try:
        await until(lambda: worker._wake is not None)
        # Queued "by another process": this worker's hook is not called.
        saved, outbox._listeners[:] = list(outbox._listeners), []
        try:
            await queue()
        finally:
            outbox._listeners[:] = saved
        await until(lambda: len(smtp_sink.handler.received) == 1)
    finally:
        await stop(task)


async def test_the_worker_survives_errors_and_carries_on(client, settings, smtp_sink, monkeypatch):
    monkeypatch.setattr(worker_module, "ERROR_PAUSE_SECONDS", 0.01)
    real = worker_module.sender.send_batch
    calls = {"n": 0}

    async def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RuntimeError("database went away")
        return await real(*args, **kwargs)

    monkeypatch.setattr(worker_module.sender, "send_batch", flaky)
    await queue()
    worker = Worker(smtp_sink.settings(settings), clock=lambda: NOW, poll_seconds=0.05)
    task = asyncio.create_task(worker.run_forever())
    try:
        await until(lambda: len(smtp_sink.handler.received) == 1)
        assert not task.done()
    finally:
        await stop(task)
    assert calls["n"] >= 3


async def test_cancelling_stops_the_worker_and_unhooks_it(client, settings):
    before = len(outbox._listeners)
    worker = Worker(settings, clock=lambda: NOW, poll_seconds=3600)
    task = asyncio.create_task(worker.run_forever())
    await until(lambda: len(outbox._listeners) == before + 1)
    await stop(task)
    assert task.cancelled()
    assert len(outbox._listeners) == before
    await queue()  # a stopped worker is not called


async def test_stop_task_ends_a_task_that_swallowed_the_first_cancel():
    # What Python 3.11's asyncio.wait_for does when a cancel races the awaited reply
    # (aiosmtplib awaits every SMTP reply that way): the CancelledError never arrives.
    swallowed = []

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed.append(True)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    async with asyncio.timeout(10):
        await stop_task(task, every=0.01)
    assert swallowed == [True] and task.cancelled()


async def test_a_stopped_worker_ends_its_loop_even_without_a_cancel(client, settings):
    before = len(outbox._listeners)
    worker = Worker(settings, clock=lambda: NOW, poll_seconds=3600)
    task = asyncio.create_task(worker.run_forever())
    await until(lambda: worker.passes >= 1)
    worker.stop()
    async with asyncio.timeout(10):
        await task
    assert not task.cancelled()
    assert len(outbox._listeners) == before
    await queue()  # a stopped worker is not called


async def test_the_app_runs_its_worker_in_process_when_asked(settings, smtp_sink):
    from portal.app import create_app
    from tests.conftest import make_client

    app = create_app(smtp_sink.settings(settings).with_(inprocess_worker=True))
    async with app.lifespan(), make_client(app) as web:
        assert (await web.get("/healthz")).status_code == 200
        worker_task = app.state["services"].worker_task
        assert worker_task is not None and not worker_task.done()
        await queue(now=wall_clock())  # this worker runs on the real clock
        await until(lambda: len(smtp_sink.handler.received) == 1)
    assert worker_task.done()


async def test_housekeeping_deletes_long_expired_link_tokens_hourly(client, settings, alice):
    def token(name: str, expires: datetime) -> AuthToken:
        return AuthToken(purpose="verify", token_hash=name.ljust(64, "0"), customer=alice.id,
                         created_at=expires - timedelta(hours=24), expires_at=expires)

    await AuthToken.insert(token("old", NOW - timedelta(days=2)), token("recent", NOW - timedelta(hours=2)),
                           token("live", NOW + timedelta(hours=2)))
    worker = Worker(settings)
    await worker.run_once(NOW)
    left = {r["token_hash"][:6].rstrip("0") for r in await AuthToken.select(AuthToken.token_hash)}
    assert left == {"recent", "live"}

    await AuthToken.insert(token("old2", NOW - timedelta(days=3)))
    await worker.run_once(NOW + timedelta(minutes=10))  # not due again yet
    assert await AuthToken.count().where(AuthToken.token_hash == "old2".ljust(64, "0")) == 1
    await worker.run_once(NOW + timedelta(hours=1))
    assert await AuthToken.count().where(AuthToken.token_hash == "old2".ljust(64, "0")) == 0


async def test_housekeeping_deletes_expired_file_sessions(client, settings, app):
    store = app.state["services"].session_store
    folder = settings.var_dir / "sessions"
    await store.set("s:expired", b"{}", expires_in=-60)
    await store.set("s:current", b"{}", expires_in=3600)
    files = {p.name for p in folder.iterdir()}
    assert len(files) == 2
    await Worker(settings).housekeeping(NOW)
    # Reading an expired key deletes it too, so look at the files, not through the store.
    assert len({p.name for p in folder.iterdir()}) == 1
    assert await store.get("s:current") == b"{}"


async def test_housekeeping_failure_does_not_stop_mail(client, settings, smtp_sink, monkeypatch):
    async def broken(self, now):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Worker, "_delete_expired_sessions", broken)
    await queue()
    assert await Worker(smtp_sink.settings(settings)).run_once(NOW) == 1
