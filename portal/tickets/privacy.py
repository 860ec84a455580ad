"""KVKK/GDPR: a customer's tickets in their data download, and what deleting the account
erases. The tickets themselves stay (the history of the help desk), without the person."""

from __future__ import annotations

from datetime import datetime

from portal.accounts import service as accounts
from portal.tags.tables import Tagging
from portal.tickets.rules import ref
from portal.tickets.tables import CustomerNote, GuestToken, Message, Ticket

ERASED = "[deleted at the customer's request]"


@accounts.register_exporter
async def export_tickets(customer_id: int) -> dict:
    tickets = await Ticket.select(Ticket.id, Ticket.number, Ticket.subject, Ticket.status, Ticket.channel,
                                  Ticket.created_at).where(Ticket.requester == customer_id).order_by(
        Ticket.id)
    messages = await Message.select(Message.ticket, Message.author_kind, Message.author_name, Message.body,
                                    Message.created_at).where(
        Message.ticket.is_in([t["id"] for t in tickets] or [0]) & (Message.public == True)  # noqa: E712
    ).order_by(Message.id)
    out = []
    for t in tickets:
        out.append({"ref": ref(t["number"]), "subject": t["subject"], "status": t["status"],
                    "channel": t["channel"], "created_at": t["created_at"].isoformat(),
                    "messages": [{"from": m["author_kind"], "name": m["author_name"], "body": m["body"],
                                  "at": m["created_at"].isoformat()}
                                 for m in messages if m["ticket"] == t["id"]]})
    return {"tickets": out}


@accounts.register_eraser
async def erase_tickets(customer_id: int, *, now: datetime) -> None:
    """What the customer wrote is replaced, links to their tickets stop working, staff notes
    and tags about them go. Attachment files are kept by the ticket (not erased here)."""
    ticket_ids = await Ticket.select(Ticket.id).where(Ticket.requester == customer_id).output(as_list=True)
    await Message.update({Message.body: ERASED, Message.author_name: ""}).where(
        (Message.author_customer == customer_id) | (
            Message.ticket.is_in(ticket_ids or [0]) & (Message.author_kind == "customer")))
    await GuestToken.update({GuestToken.revoked_at: now}).where(
        GuestToken.ticket.is_in(ticket_ids or [0]) & GuestToken.revoked_at.is_null())
    await CustomerNote.delete().where(CustomerNote.customer == customer_id)
    await Tagging.delete().where((Tagging.kind == "customer") & (Tagging.object_id == customer_id))
