"""Many workers, one queue: every mail goes out exactly once.

Two ways: workers racing in one process (separate database connections from the pool, so
the claims really do run side by side), and two ``portal worker``-like processes, each with
its own engine, started together.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import UTC, datetime

from portal.jobs.worker import Worker
from portal.mail import service as outbox
from portal.mail.tables import Outbox
from portal.settings import ROOT

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
MAILS = 200


async def queue_many(n: int = MAILS) -> set[str]:
    for i in range(n):
        await outbox.enqueue("verify-email", to=f"user{i}@example.com", name=f"Kullanıcı {i}", locale="tr",
                             context={"token": f"t{i}", "hours": 24}, now=NOW)
    return {r["message_id"] for r in await Outbox.select(Outbox.message_id)}


def assert_each_sent_once(sink, expected: set[str]) -> None:
    counts = Counter(r.message["Message-ID"] for r in sink.handler.received)
    assert set(counts) == expected
    assert [mid for mid, n in counts.items() if n > 1] == []
    assert len(sink.handler.received) == len(expected)


async def test_workers_racing_in_one_process_send_each_mail_once(client, settings, smtp_sink):
    expected = await queue_many()
    workers = [Worker(smtp_sink.settings(settings), batch_size=7) for _ in range(3)]

    async def drain(worker: Worker) -> int:
        total = 0
        while sent := await worker.run_once(NOW):
            total += sent
        return total

    results = await asyncio.gather(*(drain(w) for w in workers))
    assert sum(results) == MAILS
    assert_each_sent_once(smtp_sink, expected)
    assert await Outbox.count().where(Outbox.sent_at.is_null()) == 0
    assert await Outbox.count().where(Outbox.attempts != 1) == 0  # nobody claimed a row twice


WORKER_SCRIPT = """
import asyncio, sys
from datetime import datetime
from pathlib import Path

from portal import db
from portal.jobs.worker import Worker
from portal.mail import service
from portal.settings import Settings, SmtpConfig

url, port, var_dir = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
now = datetime.fromisoformat(sys.argv[4])

async def main():
    settings = Settings(database_url=url, secret_key="x" * 40, var_dir=var_dir,
                        smtp=SmtpConfig("127.0.0.1", port, None, None, False, False))
    service.configure(base_url=settings.base_url, mail_from=settings.mail_from)
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # wait for "go"
    worker, total = Worker(settings, batch_size=5), 0
    while sent := await worker.run_once(now):
        total += sent
    await db.stop(engine)
    print(total, flush=True)

asyncio.run(main())
"""


async def test_two_worker_processes_send_each_mail_once(client, settings, smtp_sink, tmp_path):
    expected = await queue_many()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WORKER_SCRIPT, settings.database_url, str(smtp_sink.port),
            str(tmp_path / f"var{i}"), NOW.isoformat(), cwd=str(ROOT),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for i in range(2)
    ]
    try:
        for proc in procs:  # both connected before either starts: they really overlap
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line.strip() == b"ready", (line, await proc.stderr.read())
        for proc in procs:
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        outputs = [await asyncio.wait_for(proc.communicate(), 120) for proc in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
    totals = [int(out.strip().splitlines()[-1]) for out, _err in outputs]
    assert sum(totals) == MAILS
    assert_each_sent_once(smtp_sink, expected)
    assert await Outbox.count().where(Outbox.attempts != 1) == 0
