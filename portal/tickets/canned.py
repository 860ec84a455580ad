"""Canned replies: prepared answers with two placeholders, ``{{ customer_name }}`` and
``{{ order_number }}``, filled by plain string replacement (:func:`text.fill_placeholders`).
The text is data: it is never rendered as a template, whoever wrote it."""

from __future__ import annotations

from datetime import datetime

from portal.tickets import text
from portal.tickets.rules import TicketError
from portal.tickets.tables import CannedReply

LANGUAGES = ("tr", "en")


async def all_replies() -> list[dict]:
    return await CannedReply.select(
        CannedReply.id, CannedReply.title, CannedReply.body, CannedReply.language, CannedReply.team,
        CannedReply.team.name_tr.as_alias("team_name_tr"), CannedReply.team.name_en.as_alias("team_name_en"),
    ).order_by(CannedReply.language).order_by(CannedReply.title)


async def get(reply_id: int) -> dict | None:
    return await CannedReply.select().where(CannedReply.id == reply_id).first()


def _check(title: str, body: str, language: str) -> None:
    if not title.strip() or len(title) > 120 or not body.strip() or len(body) > 20000:
        raise TicketError("bad_canned")
    if language not in LANGUAGES:
        raise TicketError("bad_language")


async def create(*, title: str, body: str, language: str, team_id: int | None, by: int | None,
                 now: datetime) -> int:
    _check(title, body, language)
    row = CannedReply(title=title.strip(), body=body, language=language, team=team_id, created_by=by,
                      created_at=now)
    rows = await CannedReply.insert(row).returning(CannedReply.id)
    return rows[0]["id"]


async def update(reply_id: int, *, title: str, body: str, language: str, team_id: int | None) -> None:
    _check(title, body, language)
    rows = await CannedReply.update({CannedReply.title: title.strip(), CannedReply.body: body,
                                     CannedReply.language: language, CannedReply.team: team_id}).where(
        CannedReply.id == reply_id).returning(CannedReply.id)
    if not rows:
        raise TicketError("not_found")


async def delete(reply_id: int) -> None:
    await CannedReply.delete().where(CannedReply.id == reply_id)


async def filled(reply_id: int, ticket: dict) -> str | None:
    """The reply's text for this ticket: the requester's name and the linked order's number."""
    reply = await get(reply_id)
    if reply is None:
        return None
    return text.fill_placeholders(reply["body"], customer_name=ticket.get("requester_name") or "",
                                  order_number=ticket.get("order_number") or "")
