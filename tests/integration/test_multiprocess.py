"""The portal as deployed past one process: two server processes (``portal run --no-worker``,
one process each, on their own ports) and two ``portal worker`` processes, sharing one new
PostgreSQL database and one Redis (under a prefix of their own), driven over real HTTP.

- a customer logs in on server A and the session works on server B; logging out on B ends it on A;
- a log-in rate limit is reached by attempts spread over A and B;
- an agent listening to the queue's live stream on B hears a request opened on A, and an SLA
  breach announced by a worker process;
- 1,000 queued mails are sent by the two workers to an SMTP peer run by this test: each
  exactly once, and both workers send some;
- every process stops on SIGTERM within a bound.

PostgreSQL and Redis only (SQLite is one machine's file; without Redis nothing is shared):
skipped when ``PORTAL_TEST_DBS`` leaves PostgreSQL out or no Redis answers. The tests of
this module share the processes and run in order; readiness and results are polled with
deadlines, never awaited with a fixed pause.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from redis.asyncio import Redis as AsyncRedis

from portal import db
from portal.settings import ROOT
from tests.conftest import ENGINES, PASSWORD, SECRET, Client, _pg_admin, _pg_url, _worker, base_settings
from tests.integration.conftest import RecordingHandler, SmtpSink, free_port

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MAILS = 1000
START_WITHIN = 60.0  # seconds for a process to answer after it was started
STOP_WITHIN = 15.0  # seconds for a process to exit after SIGTERM
DONE_WITHIN = 60.0  # seconds for the workers to send the 1,000 mails
PROC_NET = Path("/proc/net/tcp").exists()  # Linux: which process holds a socket

pytestmark = pytest.mark.skipif("postgres" not in ENGINES, reason="PostgreSQL is not among PORTAL_TEST_DBS")


# --- the SMTP peer: which worker process sent each message -------------------------------------

def socket_owner(client_port: int, server_port: int, pids: list[int]) -> int | None:
    """The process (of ``pids``) holding the client end of a loopback TCP connection (Linux /proc)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)
            if (local, remote) == (client_port, server_port):
                inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
        except OSError:
            continue
    return None


@dataclass
class WorkerAwareHandler(RecordingHandler):
    """Records, per message, the worker process whose connection brought it.

    Once ``hold_for`` is set, a message is held (its DATA not answered) until a connection from
    every one of those processes has been seen: the first worker to claim a batch then waits
    for the other to claim one too, so both take a share whichever polls first.
    """

    smtp_port: int = 0
    hold_for: set[int] = field(default_factory=set)
    seen: set[int] = field(default_factory=set)
    sender_of: dict[str, int | None] = field(default_factory=dict)  # Message-ID -> worker pid
    deliveries: Counter = field(default_factory=Counter)  # Message-ID -> times received
    _everyone_here: asyncio.Event | None = None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.worker_pid = None
        if self.hold_for:
            session.worker_pid = socket_owner(session.peer[1], self.smtp_port, sorted(self.hold_for))
            self.seen.add(session.worker_pid)
            if self.hold_for <= self.seen:
                self._event().set()
        return await super().handle_EHLO(server, session, envelope, hostname, responses)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.hold_for and not self._event().is_set():
            try:  # a guard, not a pause: it returns as soon as the other worker connects
                await asyncio.wait_for(self._event().wait(), 30)
            except TimeoutError:
                self._event().set()  # hold nothing more; the share assertion will say why
        match = re.search(rb"^Message-ID:[ \t]*(\S+)", envelope.content, re.MULTILINE | re.IGNORECASE)
        if match:
            mid = match.group(1).decode()
            with self.lock:
                self.deliveries[mid] += 1
                self.sender_of.setdefault(mid, getattr(session, "worker_pid", None))
        return await super().handle_DATA(server, session, envelope)

    def _event(self) -> asyncio.Event:  # made in the SMTP server's own event loop
        if self._everyone_here is None:
            self._everyone_here = asyncio.Event()
        return self._everyone_here


# --- the processes ------------------------------------------------------------------------------

@dataclass
class Cluster:
    database_url: str
    prefix: str
    servers: list[str]  # base URLs of server A and B
    procs: dict[str, subprocess.Popen]
    logs: dict[str, Path]
    smtp: SmtpSink
    var_dir: Path

    @property
    def handler(self) -> WorkerAwareHandler:
        return self.smtp.handler  # type: ignore[return-value]

    @property
    def worker_pids(self) -> list[int]:
        return [p.pid for name, p in self.procs.items() if name.startswith("worker")]

    def log_tail(self, name: str, lines: int = 30) -> str:
        text = self.logs[name].read_text(errors="replace") if self.logs[name].exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    @asynccontextmanager
    async def database(self):
        """The portal's own database code, bound in this test's event loop."""
        from portal.mail import service as mail_service

        settings = base_settings(self.database_url, self.var_dir)
        engine = db.make_engine(settings)
        db.bind(engine)
        await db.start(engine, pool_size=2)
        mail_service.configure(base_url=self.servers[0], mail_from=settings.mail_from)
        try:
            yield
        finally:
            await db.stop(engine)


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        client.close()
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    return client


async def _seed() -> None:
    from portal.accounts import service as accounts
    from portal.accounts.tables import Customer
    from portal.clock import now
    from portal.i18n import email_key
    from portal.security import Passwords

    hashed = await Passwords(time_cost=1, memory_cost=64).hash(PASSWORD)  # cheap; verified by its own costs
    await Customer(email="ayse@example.com", email_key=email_key("ayse@example.com"), name="Ayşe Çelik",
                   locale="tr", password_hash=hashed, email_verified_at=now()).save()
    await accounts.create_staff(email="elif@example.com", name="Elif Aydın", role="agent", password_hash=hashed,
                                now=now(), team="destek")


def _wait_until_serving(cluster: Cluster, name: str, url: str) -> None:
    deadline = time.monotonic() + START_WITHIN
    while True:
        proc = cluster.procs[name]
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode}:\n{cluster.log_tail(name)}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{name} did not answer /healthz within {START_WITHIN:.0f} s:\n{cluster.log_tail(name)}")
        time.sleep(0.05)  # polling interval while waiting for start-up; nothing is ordered by it


def _stop(proc: subprocess.Popen) -> int | None:
    """SIGTERM, then the exit status, or None when the process outlived STOP_WITHIN (then killed)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    redis_client = _redis_or_skip()
    var_dir = tmp_path_factory.mktemp("multiprocess")
    prefix = f"portal-mp-{uuid.uuid4().hex[:10]}"
    name = f"portal_w_{_worker()}_{os.getpid()}_mp{uuid.uuid4().hex[:6]}"  # conftest drops it if left behind
    asyncio.run(_pg_admin(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                          "LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR' LOCALE 'C.UTF-8'"))
    smtp = SmtpSink()
    smtp.handler = WorkerAwareHandler(smtp_port=smtp.port)
    smtp.start()
    ports = [free_port(), free_port()]
    cluster = Cluster(database_url=_pg_url(name), prefix=prefix,
                      servers=[f"http://127.0.0.1:{port}" for port in ports], procs={}, logs={}, smtp=smtp,
                      var_dir=var_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({
        "PORTAL_ENV_FILE": str(var_dir / "none.env"),  # a developer's .env must not leak in
        "PORTAL_DATABASE_URL": cluster.database_url,
        "PORTAL_REDIS_URL": REDIS_URL,
        "PORTAL_HASH_NICENESS": "10",  # as the browser tests: the suite keeps the cores busy
        "PORTAL_REDIS_PREFIX": prefix,
        "PORTAL_SECRET_KEY": SECRET,
        "PORTAL_BASE_URL": cluster.servers[0],  # one public address, as behind a load balancer
        "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
        "PORTAL_WORKERS": "1",
        "PORTAL_VAR_DIR": str(var_dir),
    })
    portal = [sys.executable, "-m", "portal"]
    try:
        migrated = subprocess.run([*portal, "migrate"], env=env, cwd=ROOT, capture_output=True, text=True,
                                  timeout=START_WITHIN)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr

        async def seed() -> None:
            async with cluster.database():
                await _seed()

        asyncio.run(seed())
        commands = {
            "server-a": [*portal, "run", "--no-worker", "--no-migrate", "--port", str(ports[0])],
            "server-b": [*portal, "run", "--no-worker", "--no-migrate", "--port", str(ports[1])],
            "worker-1": [*portal, "worker"],
            "worker-2": [*portal, "worker"],
        }
        for proc_name, command in commands.items():
            cluster.logs[proc_name] = var_dir / f"{proc_name}.log"
            with cluster.logs[proc_name].open("wb") as log:
                cluster.procs[proc_name] = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log,
                                                            stderr=subprocess.STDOUT)
        for proc_name, url in zip(("server-a", "server-b"), cluster.servers, strict=True):
            _wait_until_serving(cluster, proc_name, url)
        for proc_name in ("worker-1", "worker-2"):
            assert cluster.procs[proc_name].poll() is None, cluster.log_tail(proc_name)
        yield cluster
    finally:
        for proc in cluster.procs.values():  # already stopped by the last test, unless it failed early
            _stop(proc)
        smtp.stop()
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        keys = list(redis_client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            redis_client.delete(*keys)
        redis_client.close()


def client_for(url: str) -> Client:
    return Client(base_url=url, follow_redirects=False, timeout=30)


async def _deadline_poll(check, *, within: float, what: str | Callable[[], str], every: float = 0.05) -> Any:
    """``await check()`` until it returns something true; fail after ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while True:
                if result := await check():
                    return result
                await asyncio.sleep(every)
    except TimeoutError:
        pytest.fail(f"not within {within:.0f} s: {what() if callable(what) else what}")


# --- the tests (in this order) -----------------------------------------------------------------

async def test_a_session_made_on_one_server_works_on_the_other(cluster):
    a, b = cluster.servers
    async with client_for(a) as one, client_for(b) as two:
        response = await one.post_form("/login", {"email": "ayse@example.com", "password": PASSWORD})
        assert response.status_code == 303, response.text
        two.cookies.update(one.cookies)
        account = await two.get("/account")
        assert account.status_code == 200
        assert "ayse@example.com" in account.text
        # and a log-out on B ends the session on A (the CSRF token, signed with the shared secret, too)
        assert (await two.post_form("/logout")).status_code == 303
        again = await one.get("/account")
        assert again.status_code == 303 and again.headers["location"].startswith("/login")


async def test_a_rate_limit_counts_attempts_on_both_servers(cluster):
    from portal.customer.accounts import LOGIN_PER_ACCOUNT

    a, b = cluster.servers
    # An address of its own: the next test logs Ayşe in again.
    wrong = {"email": "deniz@example.com", "password": "not the password!"}
    async with client_for(a) as one, client_for(b) as two:
        for i in range(LOGIN_PER_ACCOUNT):  # 3 on A, 2 on B: under the limit on each alone
            r = await (one if i % 2 == 0 else two).post_form("/login", wrong)
            assert r.status_code == 422, r.text
        for client in (one, two):
            blocked = await client.post_form("/login", {**wrong, "password": PASSWORD})
            assert blocked.status_code == 429
            assert int(blocked.headers["retry-after"]) > 0


async def test_an_agent_on_one_server_hears_changes_made_on_the_other_and_by_a_worker(cluster):
    from portal.tickets.tables import Ticket

    a, b = cluster.servers
    channel = f"{cluster.prefix}:channels:tickets"
    listener = AsyncRedis.from_url(REDIS_URL)
    async with client_for(b) as agent, client_for(a) as customer:
        r = await agent.post_form("/staff/login", {"email": "elif@example.com", "password": PASSWORD})
        assert r.status_code == 303, r.text
        queue = await agent.get("/staff/queue")
        assert queue.status_code == 200 and 'sse-connect="/staff/live/queue"' in queue.text
        async with agent.stream("GET", "/staff/live/queue") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            async with asyncio.timeout(20):
                while "listening" not in await anext(lines):
                    pass
            # Redis itself lists the subscription before anything is published (no pause).
            await _deadline_poll(lambda: _numsub(listener, channel), within=20, what="the SUBSCRIBE of server B")

            r = await customer.post_form("/login", {"email": "ayse@example.com", "password": PASSWORD})
            assert r.status_code == 303, r.text
            opened = await customer.post_form("/tickets/new", {"subject": "Kargom nerede?",
                                                               "body": "Üç gündür bekliyorum."})
            assert opened.status_code == 303, opened.text
            ref = opened.headers["location"].rsplit("/", 1)[1]
            assert re.fullmatch(r"T-\d+", ref)

            await _heard(lines, ref)

            # A change made by a worker process: an SLA breach of a request opened here, in the
            # test process (which announces to nobody), is found and announced by a worker.
            async with cluster.database():
                overdue = await _overdue_ticket()
                await _heard(lines, overdue)
                breached = await Ticket.select(Ticket.sla_breached).where(Ticket.number == int(overdue[2:])).first()
                assert breached == {"sla_breached": True}
    await listener.aclose()


async def _heard(lines: AsyncIterator[str], ref: str) -> None:
    """Read the event stream until a ``ticket-changed`` event for ``ref``."""
    event = None
    try:
        async with asyncio.timeout(20):
            async for line in lines:
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "ticket-changed" and line[5:].strip() == ref:
                    return
    except TimeoutError:
        pytest.fail(f"no ticket-changed event for {ref} within 20 s")


async def _overdue_ticket() -> str:
    from datetime import timedelta

    from portal.accounts.tables import Customer
    from portal.clock import now
    from portal.sla.tables import TicketSla
    from portal.tickets import service
    from portal.tickets.rules import Actor, ref

    customer = await Customer.select().where(Customer.email == "ayse@example.com").first()
    new = service.NewTicket(subject="Fatura", body="...", requester_id=customer["id"], notify_requester=False)
    ticket = (await service.open_ticket(new, actor=Actor.customer(customer), now=now())).ticket
    late = now() - timedelta(minutes=1)
    await TicketSla(ticket=ticket["id"], target="first_response", minutes=60, start_at=late - timedelta(hours=1),
                    due_at=late, next_breach_at=late).save()
    return ref(ticket["number"])


async def _numsub(client: Any, channel: str) -> int:
    return (await client.pubsub_numsub(channel))[0][1]


async def test_a_thousand_mails_are_sent_once_each_by_both_workers(cluster):
    from portal.clock import now
    from portal.mail import service as mail_service
    from portal.mail.tables import Outbox

    handler = cluster.handler
    async with cluster.database():
        if PROC_NET:
            handler.hold_for = set(cluster.worker_pids)  # see WorkerAwareHandler
        ids = set()
        started = now()
        async with db.transaction():  # one commit: the workers see all 1,000 at once
            for i in range(MAILS):
                ids.add(await mail_service.enqueue("verify-email", to=f"job{i}@example.com", name=f"Kullanıcı {i}",
                                                   context={"token": f"t{i}", "hours": 24}, now=started))
        assert len(ids) == MAILS
        rows = await Outbox.select(Outbox.id, Outbox.message_id).where(Outbox.id.is_in(list(ids)))
        expected = {r["message_id"] for r in rows}

        def delivered() -> int:
            with handler.lock:
                return len(expected & handler.deliveries.keys())

        async def all_delivered() -> bool:
            return delivered() == MAILS and await _nothing_left(Outbox, ids)

        await _deadline_poll(all_delivered, within=DONE_WITHIN,
                             what=lambda: f"{MAILS} mails sent (the SMTP peer has {delivered()})")
        with handler.lock:
            assert {mid for mid in expected if handler.deliveries[mid] != 1} == set()
        done = await Outbox.select(Outbox.sent_at, Outbox.failed_at, Outbox.attempts).where(Outbox.id.is_in(list(ids)))
        assert all(r["sent_at"] is not None and r["failed_at"] is None for r in done)
        assert Counter(r["attempts"] for r in done) == {1: MAILS}  # no row was claimed twice

    if not PROC_NET:
        return  # which process sent what is read from Linux's /proc
    shares = Counter(handler.sender_of[mid] for mid in expected)
    assert set(shares) == set(cluster.worker_pids), shares
    assert sum(shares.values()) == MAILS


async def _nothing_left(outbox: Any, ids: set[int]) -> bool:
    """True when none of the mails ``ids`` is still waiting to be sent."""
    return await outbox.count().where(outbox.sent_at.is_null() & outbox.failed_at.is_null()
                                      & outbox.id.is_in(list(ids))) == 0


def test_every_process_stops_on_sigterm(cluster):
    statuses = {name: _stop(proc) for name, proc in cluster.procs.items()}
    # uvicorn shuts down, then ends itself by the signal it caught (status -15): that is clean
    # too when the application's shutdown ran to its end.
    clean = {name: status == 0 or (status == -signal.SIGTERM and name.startswith("server")
                                   and "Application shutdown complete" in cluster.log_tail(name))
             for name, status in statuses.items()}
    assert all(clean.values()), {name: (statuses[name], cluster.log_tail(name)) for name in clean if not clean[name]}
    # nothing was sent twice, also after the workers' last passes
    assert [mid for mid, n in cluster.handler.deliveries.items() if n > 1] == []
    assert len(cluster.handler.deliveries) == len(cluster.handler.received)
