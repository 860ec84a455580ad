"""The background worker: sends the outbox and does periodic housekeeping.

It is a loop over the database, like healthchecks' ``sendalerts``: every pass claims due mail
(compare-and-set, see :mod:`portal.mail.sender`), so any number of workers, in the web
processes (``settings.inprocess_worker``) or in ``portal worker`` processes, can run at once.

The loop sleeps until mail is queued in this process (``portal.mail.service.on_enqueue``) or
for ``POLL_SECONDS`` (mail queued by other processes, retries coming due). No exception
stops it: it logs, pauses briefly and goes on. :func:`stop_task` stops it cleanly; mail it
had claimed but not sent is retried when the claim's lease ends.

Why not a plain ``task.cancel()``: on Python 3.11, ``asyncio.wait_for`` (which aiosmtplib
awaits every server reply with) swallows a cancellation that arrives as the reply does, and
the loop would then run on forever. ``stop_task`` sets a flag the loop checks between passes
and cancels again until the task has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from litestar.stores.file import FileStore

from portal import db
from portal.clock import now as wall_clock
from portal.mail import sender
from portal.mail import service as mail_service
from portal.routing import service as _routing_service  # noqa: F401 - registers ticket routing
from portal.settings import Settings
from portal.sla import alerts as sla_alerts
from portal.sla import service as _sla_service  # noqa: F401 - registers the SLA ticket listener

log = logging.getLogger("portal.jobs")

POLL_SECONDS = 2.0
ERROR_PAUSE_SECONDS = 5.0
# After a wake-up that found nothing: the enqueuing transaction may not have committed yet.
SETTLE_SECONDS = 0.25
HOUSEKEEPING_EVERY = timedelta(hours=1)
SURVEY_SWEEP_EVERY = timedelta(minutes=5)
TOKEN_GRACE = timedelta(days=1)
# Batches per pass before the loop looks at housekeeping again (a big backlog drains anyway).
MAX_BATCHES_PER_PASS = 20


class Worker:
    def __init__(self, settings: Settings, *, batch_size: int = sender.BATCH,
                 clock: Callable[[], datetime] = wall_clock, poll_seconds: float = POLL_SECONDS) -> None:
        self.settings = settings
        self.batch_size = batch_size
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.next_housekeeping: datetime | None = None
        self.next_survey_sweep: datetime | None = None
        self.passes = 0  # completed passes of run_forever (lets tests know it is idle)
        self._wake: asyncio.Event | None = None
        self.stopping = False

    async def run_once(self, now: datetime) -> int:
        """One pass: send every due mail (in batches, one SMTP connection each), then
        housekeeping when it is due. Returns how many mails went out."""
        total = 0
        await self._survey_jobs(now)
        for _ in range(MAX_BATCHES_PER_PASS):
            sent = await sender.send_batch(self.settings, now=now, limit=self.batch_size)
            total += sent
            if sent < self.batch_size:
                break
        await self.sla_alarms(now)
        if self.next_housekeeping is None or now >= self.next_housekeeping:
            self.next_housekeeping = now + HOUSEKEEPING_EVERY
            await self.housekeeping(now)
        return total

    async def sla_alarms(self, now: datetime) -> None:
        """SLA warnings and breaches that have come (indexed alarms: cheap every pass)."""
        try:
            await sla_alerts.run(now)
        except Exception:  # noqa: BLE001 - the SLA job must not stop mail
            log.exception("SLA alarms failed")

    async def housekeeping(self, now: datetime) -> None:
        """Delete what nobody can use any more. Each task fails alone."""
        for task in (self._delete_old_tokens, self._delete_expired_sessions, self._close_solved_tickets,
                     self._refresh_customer_value):
            try:
                await task(now)
            except Exception:  # noqa: BLE001 - housekeeping must not stop mail
                log.exception("housekeeping task %s failed", task.__name__)

    async def _survey_jobs(self, now: datetime) -> None:
        """Queue survey campaigns (every pass); reminders and delivery surveys every few minutes."""
        from portal.surveys.campaigns import run_jobs

        sweep = self.next_survey_sweep is None or now >= self.next_survey_sweep
        if sweep:
            self.next_survey_sweep = now + SURVEY_SWEEP_EVERY
        try:
            await run_jobs(now, sweep=sweep)
        except Exception:  # noqa: BLE001 - surveys must not stop mail
            log.exception("survey jobs failed")

    async def _close_solved_tickets(self, now: datetime) -> None:
        """Solved tickets without a reply for 7 days become closed (SPEC §9)."""
        from portal.tickets.service import close_stale

        await close_stale(now)

    async def _refresh_customer_value(self, now: datetime) -> None:
        """RFM scores and segments of every customer, once a day (set-based SQL)."""
        from portal.value import service as customer_value

        if await customer_value.refresh_due(now):
            await customer_value.refresh_all(now=now)

    async def _delete_old_tokens(self, now: datetime) -> None:
        from portal.accounts.tables import AuthToken

        await AuthToken.delete().where(AuthToken.expires_at < now - TOKEN_GRACE)

    async def _delete_expired_sessions(self, now: datetime) -> None:
        if self.settings.redis_url:  # Redis expires its own keys
            return
        path = self.settings.var_dir / "sessions"
        if path.is_dir():
            await FileStore(path=path).delete_expired()

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        """Ask the loop to end after the current pass (see :func:`stop_task`)."""
        self.stopping = True
        self.wake()

    async def run_forever(self) -> None:
        """Send and tidy until cancelled. Expects the database engine to be bound already."""
        self._wake = asyncio.Event()
        remove_listener = mail_service.on_enqueue(self.wake)
        log.info("worker started, smtp %s",
                 "configured" if self.settings.smtp else "none: mail stays queued")
        woken = False
        try:
            while not self.stopping:
                self._wake.clear()
                try:
                    sent = await self.run_once(self.clock())
                except Exception:  # noqa: BLE001 - the loop must survive anything and try again
                    log.exception("worker pass failed; trying again in %.0f s", ERROR_PAUSE_SECONDS)
                    await asyncio.sleep(ERROR_PAUSE_SECONDS)
                    continue
                self.passes += 1
                if sent:
                    woken = False
                    continue  # more may be due at once
                if woken:
                    # Woken for mail whose transaction may still have been open: one more look soon.
                    woken = False
                    await self._sleep(SETTLE_SECONDS)
                    continue
                woken = await self._sleep(self.poll_seconds)
        finally:
            remove_listener()
            log.info("worker stopped")

    async def _sleep(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when woken by an enqueue."""
        assert self._wake is not None
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            return False
        return True


async def stop_task(task: asyncio.Task, *, worker: Worker | None = None, every: float = 0.5) -> None:
    """Stop ``task`` and wait until it has ended, whatever it was awaiting.

    A single ``cancel()`` can be lost (see the module docstring), so the cancel is repeated
    every ``every`` seconds until the task is done. Its exception, if any, is not raised.
    """
    if worker is not None:
        worker.stop()
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=every)
    if not task.cancelled():
        with contextlib.suppress(Exception):
            task.result()


async def run_worker(settings: Settings) -> None:
    """``portal worker``: bind the database, run the worker until SIGINT/SIGTERM, shut down."""
    mail_service.configure(base_url=settings.base_url, mail_from=settings.mail_from)
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine, pool_size=4)
    try:
        async with _announcing(settings):
            await _run_until_signal(Worker(settings))
    finally:
        await db.stop(engine)


@contextlib.asynccontextmanager
async def _announcing(settings: Settings) -> AsyncIterator[None]:
    """With Redis, ticket changes made here (SLA warnings and breaches, solved tickets closed)
    reach the live staff pages of every server process, as the servers' own changes do.
    (A worker inside a server process is heard through that process's channels already.)"""
    if not settings.redis_url:
        yield
        return
    from redis.asyncio import Redis

    from portal.staff.live import announce_through_redis

    client = Redis.from_url(settings.redis_url)
    try:
        async with announce_through_redis(settings, client):
            yield
    finally:
        await client.aclose()


async def _run_until_signal(worker: Worker) -> None:
    task = asyncio.create_task(worker.run_forever())
    loop = asyncio.get_running_loop()
    stopper: list[asyncio.Task] = []

    def on_signal() -> None:
        if not stopper:
            stopper.append(asyncio.create_task(stop_task(task, worker=worker)))

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal)
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # we were cancelled ourselves, not just the worker by a signal
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
