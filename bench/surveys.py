"""``python -m bench.surveys``: an NPS campaign to 10,000 customers through a real SMTP peer,
with the worker process killed once mid-run.

Per engine (``--engines``):

1. A fresh migrated database (``bench.servers.database``) with ``--customers`` customers.
2. An aiosmtpd server in this process records every mail it accepts (recipient, Message-ID).
3. A lead's campaign (everyone, ``--per-minute`` mails a minute) is started; a ``portal worker``
   subprocess queues it (500 customers a transaction) and sends it.
4. When ``--kill-at`` of the mails have arrived, the worker gets SIGKILL. Rows it had claimed
   stay leased for 5 minutes (``portal.mail.sender.LEASE``); instead of waiting, the bench
   ends those leases (``locked_until`` = now), which is what the clock would do. A new worker
   process finishes the campaign.
5. Prints: time until the whole campaign is queued (the worker queues a batch of 500 between
   its sending rounds of up to 1,000 mails, so queueing keeps just ahead of sending and ends
   near the end), time to send, mails a second, received, lost (customers with no
   mail), duplicates by Message-ID (the same mail twice: the documented crash window between
   the server's 250 and the row being marked sent) and customers with two different mails
   (must be 0: one request per customer and campaign, by a unique index).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller
from rich.console import Console
from rich.table import Table

from bench.servers import database, free_port, portal_env
from portal.settings import ROOT

console = Console()


@dataclass
class Sink:
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: list[tuple[str, str]] = field(default_factory=list)  # (to, Message-ID)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt, str(msg["Message-ID"])))
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


async def _prepare(url: str, var_dir: Path, customers: int, per_minute: int) -> int:
    """Customers and the campaign, written with the portal's own code. Returns its id."""
    from portal import db
    from portal.accounts.tables import Customer
    from portal.settings import Settings
    from portal.surveys import campaigns

    settings = Settings.from_env().with_(database_url=url, var_dir=var_dir)
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine)
    try:
        now = datetime.now(UTC)
        for start in range(0, customers, 1000):
            await Customer.insert(*[Customer(email=f"musteri{i}@bench.example", email_key=f"musteri{i}@bench.example",
                                             name=f"Müşteri {i}", locale="tr" if i % 3 else "en", created_at=now,
                                             updated_at=now) for i in range(start, min(customers, start + 1000))])
        survey = await campaigns.create_survey(
            title_tr="NPS ölçümü", title_en="NPS check", intro_tr="", intro_en="",
            questions=[campaigns.QuestionIn("nps", "Bizi tavsiye eder misiniz?", "Would you recommend us?", [], True)],
            by=None, now=now)
        return await campaigns.start(survey, campaigns.Audience(), per_minute=per_minute, reminder_days=3, by=None,
                                     now=datetime.now(UTC))
    finally:
        await db.stop(engine)


async def _query(url: str, var_dir: Path, sql: str) -> list[dict]:
    from portal import db
    from portal.mail.tables import Outbox
    from portal.settings import Settings

    settings = Settings.from_env().with_(database_url=url, var_dir=var_dir)
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine, pool_size=1)
    try:
        return await Outbox.raw(sql)
    finally:
        await db.stop(engine)


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "portal", "worker"], env=env, cwd=ROOT,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)


def run_engine(engine: str, *, customers: int, per_minute: int, kill_at: float, timeout: float) -> dict:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    with tempfile.TemporaryDirectory(prefix="bench-surveys-") as tmp:
        work = Path(tmp)
        with database(engine, work) as url:
            env = portal_env(url, work, "http://bench.example")
            env["PORTAL_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
            os.environ.update({k: v for k, v in env.items() if k.startswith("PORTAL_")})
            campaign_id = asyncio.run(_prepare(url, work, customers, per_minute))
            log = work / "worker.log"
            started = time.perf_counter()
            proc = _worker(env, log)
            killed_at_count = None
            queued_s = None
            deadline = started + timeout
            polls = 0
            while time.perf_counter() < deadline:
                # Poll gently: aiosmtpd runs in a thread of this process and needs the GIL.
                time.sleep(0.2)
                polls += 1
                if os.environ.get("BENCH_TRACE") and polls % 10 == 0:
                    console.print(f"{time.perf_counter() - started:6.1f} s: {sink.count()} received")
                if killed_at_count is None and sink.count() >= kill_at * customers:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    killed_at_count = sink.count()
                    # The lease would end in 5 minutes; end it now instead of waiting.
                    asyncio.run(_query(url, work, "UPDATE outbox SET locked_until = NULL, lock_token = NULL "
                                                  "WHERE sent_at IS NULL AND lock_token IS NOT NULL RETURNING id"))
                    proc = _worker(env, log)
                if queued_s is None and polls % 5 == 0:
                    sql = f"SELECT status FROM survey_campaign WHERE id = {campaign_id}"
                    rows = asyncio.run(_query(url, work, sql))
                    if rows and rows[0]["status"] == "sent":
                        queued_s = time.perf_counter() - started
                if queued_s is not None and sink.count() >= customers:
                    pending = asyncio.run(_query(url, work, "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL"))
                    if pending[0]["n"] == 0:
                        break
            elapsed = time.perf_counter() - started
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            requests = asyncio.run(_query(url, work, "SELECT COUNT(*) AS n FROM survey_request"))[0]["n"]
    controller.stop()
    by_id = Counter(mid for _to, mid in sink.messages)
    ids_per_customer: dict[str, set[str]] = {}
    for to, mid in sink.messages:
        ids_per_customer.setdefault(to, set()).add(mid)
    expected = {f"musteri{i}@bench.example" for i in range(customers)}
    return {
        "engine": engine, "customers": customers, "requests": requests, "queued_s": queued_s, "elapsed_s": elapsed,
        "received": len(sink.messages), "killed_at": killed_at_count,
        "lost": len(expected - set(ids_per_customer)),
        "duplicates": sum(n - 1 for n in by_id.values() if n > 1),
        "two_mails": sum(1 for ids in ids_per_customer.values() if len(ids) > 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--per-minute", type=int, default=60_000, help="the campaign's throttle")
    parser.add_argument("--kill-at", type=float, default=0.3, help="share of mails received before SIGKILL")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    table = Table(title=f"Survey campaign to {args.customers:,} customers, worker killed once")
    for col in ("engine", "queued in", "all sent in", "mails/s", "received", "killed at", "lost",
                "same mail twice", "customers with 2 mails"):
        table.add_column(col, justify="right")
    for engine in args.engines.split(","):
        r = run_engine(engine.strip(), customers=args.customers, per_minute=args.per_minute, kill_at=args.kill_at,
                       timeout=args.timeout)
        table.add_row(r["engine"], f"{r['queued_s']:.1f} s" if r["queued_s"] else "–", f"{r['elapsed_s']:.1f} s",
                      f"{r['received'] / r['elapsed_s']:.0f}", f"{r['received']:,}", str(r["killed_at"]),
                      str(r["lost"]), str(r["duplicates"]), str(r["two_mails"]))
        console.print(r)
    console.print(table)
    console.print(f"Load average at the end (other work on this machine): {os.getloadavg()[0]:.1f} "
                  f"on {os.cpu_count()} cores.")
    console.print(f"Throttle: {args.per_minute:,} mails a minute, so at least "
                  f"{60 * args.customers / args.per_minute:.1f} s for the whole campaign.")


if __name__ == "__main__":
    main()
