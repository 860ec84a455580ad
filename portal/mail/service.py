"""Writing mail to the outbox.

Each mail is three template files, ``templates/mail/<name>/{subject.txt,body.txt,body.html}``,
rendered here in the recipient's language when the change that causes it happens, and
stored in the outbox *in the same transaction* as that change: the mail exists exactly when
the change does. The worker (:mod:`portal.mail.sender`) sends it later, with retries.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

import jinja2

from portal import db, i18n
from portal.mail.tables import Outbox

log = logging.getLogger("portal.mail")

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


@dataclass
class MailConfig:
    env: jinja2.Environment
    base_url: str
    mail_from: str

    @property
    def domain(self) -> str:
        addr = parseaddr(self.mail_from)[1]
        return addr.rsplit("@", 1)[-1] or "localhost"


_config: MailConfig | None = None


def configure(*, base_url: str, mail_from: str) -> None:
    from portal.templating import mail_environment

    global _config
    _config = MailConfig(env=mail_environment(base_url=base_url), base_url=base_url, mail_from=mail_from)


def config() -> MailConfig:
    if _config is None:
        raise RuntimeError("portal.mail.service.configure() has not been called")
    return _config


def one_line(text: str, limit: int = 250) -> str:
    """Header-safe text: CR, LF and other controls become spaces, so nobody can add a header."""
    return _CONTROL.sub(" ", text).strip()[:limit]


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, locale: str, context: dict[str, Any]) -> Rendered:
    cfg = config()
    ctx = {"base_url": cfg.base_url, **context}
    with i18n.use_locale(locale):
        subject = cfg.env.get_template(f"{template}/subject.txt").render(ctx)
        text = cfg.env.get_template(f"{template}/body.txt").render(ctx)
        html = cfg.env.get_template(f"{template}/body.html").render(ctx)
    return Rendered(subject=one_line(subject), text=text, html=html)


def new_message_id(key: str = "") -> str:
    return f"<{key + '.' if key else ''}{uuid.uuid4().hex}@{config().domain}>"


async def enqueue(template: str, *, to: str, name: str = "", locale: str = "tr", context: dict[str, Any],
                  now: datetime, related: str = "", headers: dict[str, str] | None = None,
                  coalesce_key: str | None = None, delay: timedelta = timedelta(0),
                  message_id: str | None = None) -> int:
    """Render and store one mail; returns the outbox id.

    With ``coalesce_key``, a mail with the same key that has not gone out yet is rewritten
    in place (newest content, its send time pushed back by ``delay``) instead of a second
    mail being queued: rapid changes reach the customer as one mail with the latest state.
    """
    rendered = render(template, locale, {"recipient_name": name, **context})
    values = {
        Outbox.template: template,
        Outbox.to_addr: one_line(to, 320),
        Outbox.to_name: one_line(name, 200),
        Outbox.locale: locale,
        Outbox.subject: rendered.subject,
        Outbox.body_text: rendered.text,
        Outbox.body_html: rendered.html,
        Outbox.headers: extra_headers(headers),
        Outbox.related: related,
        Outbox.run_after: now + delay,
    }
    async with db.transaction():
        if coalesce_key:
            # Only a row no worker holds: rewriting a mail while it is being sent would lose
            # the new content. The UPDATE re-checks that (compare-and-set); if a worker took
            # the row in between, a new mail is queued instead.
            pending = await Outbox.select(Outbox.id).where(
                (Outbox.coalesce_key == coalesce_key) & Outbox.sent_at.is_null() & Outbox.failed_at.is_null()
                & Outbox.lock_token.is_null()
            ).order_by(Outbox.id, ascending=False).first()
            if pending:
                updated = await Outbox.update(values).where(
                    (Outbox.id == pending["id"]) & Outbox.lock_token.is_null() & Outbox.sent_at.is_null()
                    & Outbox.failed_at.is_null()
                ).returning(Outbox.id)
                if updated:
                    return pending["id"]
        # Prebuilt SQL: every ticket opening and change queues mail, and building Piccolo's
        # insert cost more than running it.
        row = await db.fetch_one(
            _INSERT, template, values[Outbox.to_addr], values[Outbox.to_name], locale, rendered.subject,
            rendered.text, rendered.html, json.dumps(values[Outbox.headers], ensure_ascii=False), related,
            now + delay, message_id or new_message_id(), coalesce_key, now)
    _notify()
    return row["id"]  # type: ignore[index]


_INSERT = (
    "INSERT INTO outbox (template, to_addr, to_name, locale, subject, body_text, body_html, headers, related, "
    "run_after, message_id, coalesce_key, created_at, attempts, last_error) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 0, '') RETURNING id")


# Headers the sender sets itself; a second copy would be refused or, worse, win.
_OWN_HEADERS = frozenset({"from", "to", "cc", "bcc", "subject", "message-id", "date", "sender",
                          "content-type", "content-transfer-encoding", "mime-version"})
_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,59}$")


def extra_headers(headers: dict[str, str] | None) -> dict[str, str]:
    """Validated extra headers (``In-Reply-To``, ``References``, ``Reply-To``, ``Auto-Submitted`` …).

    A bad header *name* is a programming error and raises; values are made one line, so text
    that came from a customer cannot start a header of its own.
    """
    out: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.match(name) or name.lower() in _OWN_HEADERS:
            raise ValueError(f"header {name!r} cannot be set on an outgoing mail")
        out[name] = one_line(str(value), 2000)
    return out


async def requeue(mail_id: int, *, now: datetime) -> bool:
    """Send a failed mail again: back in the queue, due now, with a fresh attempt budget.

    A compare-and-set on ``failed_at``: only a failed mail moves, and two leads clicking at once
    requeue it once. Returns whether it moved.
    """
    async with db.transaction():
        moved = await Outbox.update({
            Outbox.failed_at: None, Outbox.run_after: now, Outbox.attempts: 0,
            Outbox.locked_until: None, Outbox.lock_token: None,
        }).where((Outbox.id == mail_id) & Outbox.failed_at.is_not_null() & Outbox.sent_at.is_null()
                 ).returning(Outbox.id)
    if moved:
        _notify()
    return bool(moved)


_listeners: list[Callable[[], None]] = []


def on_enqueue(callback: Callable[[], None]) -> Callable[[], None]:
    """Lets an in-process worker wake up at once instead of at its next poll.

    Returns a function that removes the callback again (a stopped worker must not be woken).
    The call comes when ``enqueue`` returns, which may be before the caller's own transaction
    commits; the worker therefore looks again shortly after a wake-up that found nothing.
    """
    _listeners.append(callback)

    def remove() -> None:
        with contextlib.suppress(ValueError):
            _listeners.remove(callback)

    return remove


def _notify() -> None:
    for cb in list(_listeners):
        try:
            cb()
        except Exception:  # noqa: BLE001 - a listener must never fail the change that queued the mail
            log.exception("outbox listener failed")
