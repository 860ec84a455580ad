"""Read-side queries for the mail log and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.columns.combination import And, Where, WhereRaw

from portal import db
from portal.mail.tables import Outbox

STATUSES = ("queued", "sent", "failed")
PAGE_SIZE = 50

# The list needs neither body: leaving them out keeps a page of 50 rows small.
_LIST_COLUMNS = (Outbox.id, Outbox.template, Outbox.to_addr, Outbox.to_name, Outbox.subject,
                 Outbox.created_at, Outbox.run_after, Outbox.attempts, Outbox.sent_at, Outbox.failed_at,
                 Outbox.last_error)


async def outbox_counts() -> dict[str, int]:
    queued = await Outbox.count().where(Outbox.sent_at.is_null() & Outbox.failed_at.is_null())
    failed = await Outbox.count().where(Outbox.failed_at.is_not_null())
    sent = await Outbox.count().where(Outbox.sent_at.is_not_null())
    return {"queued": queued, "failed": failed, "sent": sent}


def status_of(row: dict[str, Any]) -> str:
    if row.get("sent_at"):
        return "sent"
    if row.get("failed_at"):
        return "failed"
    return "queued"


def _status_filter(status: str) -> Where | And | None:
    if status == "queued":
        return Outbox.sent_at.is_null() & Outbox.failed_at.is_null()
    if status == "sent":
        return Outbox.sent_at.is_not_null()
    if status == "failed":
        return Outbox.failed_at.is_not_null()
    return None


@dataclass(frozen=True)
class MailPage:
    rows: list[dict[str, Any]]
    next_before: int | None  # the ``?before=`` value of the next (older) page, if there is one


async def mail_log(*, status: str = "", recipient: str = "", before: int | None = None,
                   limit: int = PAGE_SIZE) -> MailPage:
    """Newest first, keyset-paginated on ``id`` (stable while new mail keeps arriving).

    ``recipient`` with an ``@`` is an exact address (indexed); otherwise a part of the address
    or name, case-insensitively.
    """
    query = Outbox.select(*_LIST_COLUMNS).order_by(Outbox.id, ascending=False).limit(limit + 1)
    if (where := _status_filter(status)) is not None:
        query = query.where(where)
    recipient = recipient.strip()
    if recipient and "@" in recipient:
        query = query.where(Outbox.to_addr == recipient)
    elif recipient:
        # The words typed are text, not LIKE wildcards: escape them. SQLite's LIKE ignores
        # (ASCII) case by itself; PostgreSQL needs ILIKE.
        like = "LIKE" if db.is_sqlite() else "ILIKE"
        escaped = recipient.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(WhereRaw(f"(to_addr {like} {{}} ESCAPE '\\' OR to_name {like} {{}} ESCAPE '\\')",
                                     f"%{escaped}%", f"%{escaped}%"))
    if before is not None:
        query = query.where(Outbox.id < before)
    rows = await query
    more = len(rows) > limit
    rows = rows[:limit]
    for row in rows:
        row["status"] = status_of(row)
    return MailPage(rows=rows, next_before=rows[-1]["id"] if more else None)


async def mail_detail(mail_id: int) -> dict[str, Any] | None:
    row = await Outbox.select().where(Outbox.id == mail_id).output(load_json=True).first()
    if row is not None:
        row["status"] = status_of(row)
    return row


async def mail_html(mail_id: int) -> str | None:
    row = await Outbox.select(Outbox.body_html).where(Outbox.id == mail_id).first()
    return None if row is None else row["body_html"]


def display_headers(row: dict[str, Any], mail_from: str) -> list[tuple[str, str]]:
    """The headers as the sender will write them (decoded for reading), MIME plumbing left out."""
    from portal.mail.sender import build_message

    try:
        message = build_message(row, mail_from)
    except (ValueError, TypeError) as exc:
        return [("X-Portal-Error", str(exc))]
    return [(name, str(value)) for name, value in message.items()
            if not name.lower().startswith(("content-", "mime-"))]
