"""Sending the outbox: claim due rows by compare-and-set, send over one SMTP connection,
mark each row sent once. A failure leaves the row queued with a later ``run_after``
(exponential backoff); a permanent refusal (5xx) marks it failed, visible in the mail log.

Claiming sets ``lock_token`` and a lease (``locked_until``) in one UPDATE whose WHERE
re-checks that the row is still due and unleased; on PostgreSQL the candidate rows are
picked ``FOR UPDATE SKIP LOCKED``, so any number of workers share the queue and no row is
claimed by two of them. Marking a row sent is again a compare-and-set on its lock token.

Delivery is at-least-once: a worker killed between the server's "250 OK" and the UPDATE that
records it leaves the row leased; it is sent again when the lease ends (with the same
Message-ID, which lets mail clients recognise the rare repeat). A batch stops taking new rows
well before its lease could end, so a slow server never lets a second worker re-claim a row
that the first is still sending.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

import aiosmtplib

from portal import db
from portal.mail.service import extra_headers, one_line
from portal.mail.tables import Outbox
from portal.settings import Settings, SmtpConfig

log = logging.getLogger("portal.mail")

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
BATCH = 50
SEND_TIMEOUT = 60.0
# Stop starting new sends once half the lease is used: the last send (at most SEND_TIMEOUT)
# and its UPDATE then still finish inside the lease.
BATCH_BUDGET = LEASE.total_seconds() / 2

_TRANSIENT = (aiosmtplib.SMTPException, OSError, TimeoutError)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at 6 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def build_message(row: dict, mail_from: str) -> EmailMessage:
    """The MIME message for one outbox row. Header values pass through ``one_line`` again here
    (they were cleaned at enqueue), so a row written by any other path cannot add a header."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = mail_from
    name, addr = one_line(row["to_name"] or "", 200), one_line(row["to_addr"], 320)
    # An Address object quotes the display name itself: a name like 'Ayşe <b>Y</b>' stays a name.
    msg["To"] = Address(display_name=name, addr_spec=addr) if name else addr
    msg["Subject"] = one_line(row["subject"], 300)
    msg["Message-ID"] = one_line(row["message_id"], 200)
    msg["Date"] = format_datetime(row["created_at"])
    extra = row["headers"] or {}
    if isinstance(extra, str):  # a JSON column read without load_json
        extra = json.loads(extra)
    for header, value in extra_headers(extra).items():  # a reserved name (Bcc …) raises ValueError
        msg[header] = value
    msg.set_content(row["body_text"])
    if row["body_html"]:
        msg.add_alternative(row["body_html"], subtype="html")
    return msg


def _rows(raw: list[dict]) -> list[dict]:
    for row in raw:
        if isinstance(row.get("headers"), str):
            row["headers"] = json.loads(row["headers"] or "{}")
    return sorted(raw, key=lambda r: r["id"])


async def claim(now: datetime, *, limit: int = BATCH) -> list[dict]:
    """Lease up to ``limit`` due rows to this caller; no two callers get the same row.

    On PostgreSQL the candidates are picked in a MATERIALIZED CTE: as ``id IN (SELECT … LIMIT n
    FOR UPDATE SKIP LOCKED)`` the planner may rescan the subquery for each outer row, and each
    rescan skips the rows this very statement just locked, so it claimed the whole queue.
    """
    token = secrets.token_hex(16)
    due = "sent_at IS NULL AND failed_at IS NULL AND (locked_until IS NULL OR locked_until < {})"
    if db.is_sqlite():  # one writer at a time: the UPDATE itself is the compare-and-set
        sql = f"""UPDATE outbox SET locked_until = {{}}, lock_token = {{}}, attempts = attempts + 1
                  WHERE id IN (SELECT id FROM outbox WHERE {due} AND run_after <= {{}}
                               ORDER BY run_after, id LIMIT {int(limit)})
                    AND {due}
                  RETURNING *"""
        args = (now + LEASE, token, now, now, now)
    else:
        sql = f"""WITH picked AS MATERIALIZED (
                      SELECT id FROM outbox WHERE {due} AND run_after <= {{}}
                      ORDER BY run_after, id LIMIT {int(limit)} FOR UPDATE SKIP LOCKED)
                  UPDATE outbox SET locked_until = {{}}, lock_token = {{}}, attempts = outbox.attempts + 1
                  FROM picked WHERE outbox.id = picked.id AND {due}
                  RETURNING outbox.*"""
        args = (now, now, now + LEASE, token, now)
    return _rows(await Outbox.raw(sql, *args))


async def _mark_sent(row: dict, now: datetime) -> None:
    await Outbox.update({Outbox.sent_at: now, Outbox.locked_until: None, Outbox.last_error: ""}).where(
        (Outbox.id == row["id"]) & (Outbox.lock_token == row["lock_token"]) & Outbox.sent_at.is_null()
    )


async def _mark_failed(row: dict, now: datetime, error: str, *, permanent: bool) -> None:
    values: dict = {Outbox.locked_until: None, Outbox.lock_token: None, Outbox.last_error: error[:2000]}
    if permanent or row["attempts"] >= MAX_ATTEMPTS:
        values[Outbox.failed_at] = now
    else:
        values[Outbox.run_after] = now + backoff(row["attempts"])
    await Outbox.update(values).where(
        (Outbox.id == row["id"]) & (Outbox.lock_token == row["lock_token"]) & Outbox.sent_at.is_null()
    )


async def _release(rows: list[dict]) -> None:
    """Give back rows this batch claimed but did not try: no attempt is counted."""
    for row in rows:
        await Outbox.update({Outbox.locked_until: None, Outbox.lock_token: None,
                             Outbox.attempts: Outbox.attempts - 1}).where(
            (Outbox.id == row["id"]) & (Outbox.lock_token == row["lock_token"]) & Outbox.sent_at.is_null()
        )


def _refusal(exc: Exception) -> tuple[str, bool]:
    """(error text, permanent?) for an SMTP refusal: 5xx is permanent, 4xx is worth a retry."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        text = "; ".join(f"{r.code} {r.message} <{r.recipient}>" for r in exc.recipients)
        return text, bool(codes) and all(500 <= c < 600 for c in codes)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}", 500 <= exc.code < 600
    return repr(exc), False


async def send_batch(settings: Settings, *, now: datetime, limit: int = BATCH,
                     clock: Callable[[], datetime] | None = None) -> int:
    """Send what is due, over one connection. Returns how many mails went out.

    Without SMTP configured, mail stays in the outbox (readable in the staff mail log).
    ``clock`` gives the time recorded as ``sent_at``; by default it is ``now``.
    """
    if settings.smtp is None:
        return 0
    rows = await claim(now, limit=limit)
    if not rows:
        return 0
    try:
        client = await _connect(settings.smtp)
    except _TRANSIENT as exc:
        for row in rows:
            await _mark_failed(row, now, f"connect: {exc}", permanent=False)
        log.warning("SMTP server unreachable (%s); %d mails stay queued", exc, len(rows))
        return 0
    sent = 0
    started = time.monotonic()
    try:
        for index, row in enumerate(rows):
            if time.monotonic() - started > BATCH_BUDGET:
                await _release(rows[index:])
                break
            if client is None or not client.is_connected:
                try:
                    client = await _connect(settings.smtp)
                except _TRANSIENT as exc:
                    log.warning("SMTP reconnect failed: %s", exc)
                    client = None
                    for rest in rows[index:]:
                        await _mark_failed(rest, now, f"connect: {exc}", permanent=False)
                    break
            try:
                message = build_message(row, settings.mail_from)
            except (ValueError, TypeError) as exc:  # a row no server would accept: do not retry
                await _mark_failed(row, now, f"invalid message: {exc}", permanent=True)
                continue
            try:
                async with asyncio.timeout(SEND_TIMEOUT):
                    await client.send_message(message)
            except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as exc:
                error, permanent = _refusal(exc)
                await _mark_failed(row, now, error, permanent=permanent)
                if getattr(exc, "code", None) == 421:  # the server is closing the connection
                    client.close()
            except ValueError as exc:  # aiosmtplib refuses an address it cannot send safely
                await _mark_failed(row, now, f"invalid address: {exc}", permanent=True)
            except _TRANSIENT as exc:
                # The connection is in an unknown state (a timeout may even have hit after the
                # server took the message: at-least-once); start over on a fresh one.
                await _mark_failed(row, now, repr(exc), permanent=False)
                client.close()
            else:
                await _mark_sent(row, clock() if clock else now)
                sent += 1
    except BaseException:
        # Cancelled (shutdown) or a database error: drop the connection without the QUIT
        # round trip; rows not yet marked keep their lease and are retried after it.
        if client is not None:
            client.close()
        raise
    if client is not None and client.is_connected:
        try:
            async with asyncio.timeout(10):
                await client.quit()
        except _TRANSIENT:
            client.close()
    return sent


async def _connect(smtp: SmtpConfig) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(
        hostname=smtp.host, port=smtp.port, use_tls=smtp.implicit_tls,
        start_tls=True if smtp.starttls else (False if smtp.implicit_tls else None), timeout=30,
    )
    await client.connect()
    if smtp.username:
        await client.login(smtp.username, smtp.password or "")
    return client


__all__ = ["BATCH", "LEASE", "MAX_ATTEMPTS", "backoff", "build_message", "claim", "send_batch"]
