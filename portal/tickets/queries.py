"""Reading tickets, scoped by who asks: a customer gets only their own tickets and only
public messages; a guest only the ticket of their link. Someone else's ticket is simply not
found (404), never "forbidden", so nobody learns which numbers exist."""

from __future__ import annotations

from typing import Any

from portal.accounts.tables import StaffUser, Team, TeamMember
from portal.tickets import text
from portal.tickets.rules import parse_ref, ref
from portal.tickets.service import ticket_id_for_guest
from portal.tickets.tables import Attachment, Message, Ticket, TicketEvent

CUSTOMER_PAGE = 50

_DETAIL = (
    Ticket.requester.name.as_alias("requester_name"), Ticket.requester.email.as_alias("requester_email"),
    Ticket.requester.phone.as_alias("requester_phone"), Ticket.requester.locale.as_alias("requester_locale"),
    Ticket.team.slug.as_alias("team_slug"), Ticket.team.name_tr.as_alias("team_name_tr"),
    Ticket.team.name_en.as_alias("team_name_en"), Ticket.assignee.name.as_alias("assignee_name"),
    Ticket.assignee.email.as_alias("assignee_email"), Ticket.order.number.as_alias("order_number"),
    Ticket.follow_up_of.number.as_alias("follow_up_of_number"),
    Ticket.merged_into.number.as_alias("merged_into_number"),
)


def _decorate(row: dict | None) -> dict | None:
    if row is not None:
        row["ref"] = ref(row["number"])
    return row


async def _detail(where: Any) -> dict | None:
    return _decorate(await Ticket.select(*Ticket.all_columns(), *_DETAIL).where(where).first())


async def ticket_for_customer(ticket_ref: str, customer_id: int) -> dict | None:
    number = parse_ref(ticket_ref)
    if number is None:
        return None
    return await _detail((Ticket.number == number) & (Ticket.requester == customer_id))


async def ticket_for_guest(token: str) -> dict | None:
    ticket_id = await ticket_id_for_guest(token)
    return None if ticket_id is None else await _detail(Ticket.id == ticket_id)


async def ticket_for_staff(ticket_ref: str) -> dict | None:
    number = parse_ref(ticket_ref)
    return None if number is None else await _detail(Ticket.number == number)


async def ticket_by_id(ticket_id: int) -> dict | None:
    return await _detail(Ticket.id == ticket_id)


async def customer_tickets(customer_id: int, *, before: int | None = None,
                           limit: int = CUSTOMER_PAGE) -> tuple[list[dict], int | None]:
    """The customer's tickets, newest first; returns (rows, the ``before`` of the next page)."""
    query = Ticket.select(Ticket.id, Ticket.number, Ticket.subject, Ticket.status, Ticket.created_at,
                          Ticket.updated_at).where(Ticket.requester == customer_id)
    if before is not None:
        query = query.where(Ticket.id < before)
    rows = await query.order_by(Ticket.id, ascending=False).limit(limit + 1)
    more = len(rows) > limit
    rows = [_decorate(r) for r in rows[:limit]]
    return rows, (rows[-1]["id"] if more else None)  # type: ignore[index]


async def thread(ticket_id: int, *, internal: bool) -> list[dict]:
    """Messages oldest first with their attachments; ``internal`` adds the notes (staff only)."""
    where = Message.ticket == ticket_id
    if not internal:
        where &= Message.public == True  # noqa: E712
    messages = await Message.select().where(where).order_by(Message.id)
    ids = [m["id"] for m in messages]
    files: dict[int, list[dict]] = {}
    if ids:
        for a in await Attachment.select(Attachment.id, Attachment.message, Attachment.filename,
                                         Attachment.size, Attachment.content_type).where(
                Attachment.message.is_in(ids)).order_by(Attachment.id):
            files.setdefault(a["message"], []).append(a)
    for m in messages:
        m["attachments"] = files.get(m["id"], [])
        m["body_html"] = text.body_html(m["body"])
    return messages


async def events(ticket_id: int) -> list[dict]:
    return await TicketEvent.select().where(TicketEvent.ticket == ticket_id).order_by(TicketEvent.id)


async def attachment(ticket_id: int, attachment_id: int, *, internal: bool) -> dict | None:
    """One file of one ticket; without ``internal``, only files of public messages."""
    where = (Attachment.id == attachment_id) & (Attachment.ticket == ticket_id)
    if not internal:
        where &= Attachment.message.public == True  # noqa: E712
    return await Attachment.select(Attachment.id, Attachment.filename, Attachment.content_type,
                                   Attachment.size, Attachment.storage_key).where(where).first()


async def staff_attachment(attachment_id: int) -> dict | None:
    return await Attachment.select(Attachment.id, Attachment.filename, Attachment.content_type,
                                   Attachment.size, Attachment.storage_key).where(
        Attachment.id == attachment_id).first()


# --- choices for the staff forms ----------------------------------------------------------------

async def teams() -> list[dict]:
    return await Team.select(Team.id, Team.slug, Team.name_tr, Team.name_en).order_by(Team.slug)


async def agents() -> list[dict]:
    return await StaffUser.select(StaffUser.id, StaffUser.name, StaffUser.email, StaffUser.role).where(
        StaffUser.active == True).order_by(StaffUser.name)  # noqa: E712


async def team_ids_of(staff_id: int) -> set[int]:
    rows = await TeamMember.select(TeamMember.team).where(TeamMember.staff == staff_id)
    return {r["team"] for r in rows}


async def other_tickets(customer_id: int, *, exclude: int | None = None, limit: int = 10) -> list[dict]:
    query = Ticket.select(Ticket.id, Ticket.number, Ticket.subject, Ticket.status, Ticket.created_at).where(
        Ticket.requester == customer_id)
    if exclude is not None:
        query = query.where(Ticket.id != exclude)
    return [_decorate(r) for r in await query.order_by(Ticket.id, ascending=False).limit(limit)]  # type: ignore[misc]


# --- the API's list ---------------------------------------------------------------------------------

async def api_list(*, status: str | None, team_id: int | None, updated_since: Any, before_id: int | None,
                   limit: int) -> tuple[list[dict], int | None]:
    """Newest first (by id: a stable order for the cursor); returns (rows, next ``before_id``)."""
    query = Ticket.select(*Ticket.all_columns(), *_DETAIL)
    if status:
        query = query.where(Ticket.status == status)
    if team_id is not None:
        query = query.where(Ticket.team == team_id)
    if updated_since is not None:
        query = query.where(Ticket.updated_at >= updated_since)
    if before_id is not None:
        query = query.where(Ticket.id < before_id)
    rows = await query.order_by(Ticket.id, ascending=False).limit(limit + 1)
    more = len(rows) > limit
    rows = [_decorate(r) for r in rows[:limit]]  # type: ignore[misc]
    return rows, (rows[-1]["id"] if more else None)
