"""Merging a duplicate into another ticket of the same requester.

The duplicate's messages and files move to the ticket it is merged into, so the conversation
goes on in one place; the duplicate is closed with ``merged_into`` set and a message saying
where it went, and links mailed for it open the other ticket from then on. Only tickets of
the same requester merge: moving one customer's messages onto another customer's ticket
would show them to the wrong person.
"""

from __future__ import annotations

from datetime import datetime

from portal import db
from portal.tags import service as tags
from portal.tickets import signals
from portal.tickets.rules import CLOSED, Actor, TicketError, may_change, ref
from portal.tickets.service import add_message, apply, event, load, notify
from portal.tickets.tables import Attachment, GuestToken, Message, Ticket


async def merge(source_id: int, target_id: int, *, actor: Actor, now: datetime) -> dict:
    """Merge ticket ``source_id`` into ``target_id``; returns the target as it is now."""
    if source_id == target_id:
        raise TicketError("same_ticket")
    async with db.transaction():
        source, target = await load(source_id), await load(target_id)
        if not (may_change(actor, source) and may_change(actor, target)):
            raise TicketError("forbidden")
        if source["requester"] != target["requester"]:
            raise TicketError("different_requester")
        if source["status"] == CLOSED or source["merged_into"] is not None:
            raise TicketError("source_closed")
        if target["status"] == CLOSED:
            raise TicketError("target_closed")
        await Message.update({Message.ticket: target_id}).where(Message.ticket == source_id)
        await Attachment.update({Attachment.ticket: target_id}).where(Attachment.ticket == source_id)
        # Links mailed for the duplicate now open the ticket where the conversation goes on.
        await GuestToken.update({GuestToken.ticket: target_id}).where(GuestToken.ticket == source_id)
        moved_tags = (await tags.of("ticket", [source_id])).get(source_id, [])
        if moved_tags:
            await tags.add("ticket", [target_id], moved_tags, by=actor.staff_id, now=now)
        await add_message(source_id, Actor.system(), f"{ref(source['number'])} → {ref(target['number'])}",
                          public=True, channel="staff", files=[], now=now)
        await apply(source, {Ticket.status: CLOSED, Ticket.closed_at: now, Ticket.merged_into: target_id},
                    now=now)
        await event(source_id, actor, "status", source["status"], CLOSED, now)
        await event(source_id, actor, "merged_into", "", target["number"], now)
        target = await apply(target, {}, now=now)
        await event(target_id, actor, "merged_from", "", source["number"], now)
        # The duplicate's clock stops; the target got its messages.
        await notify(source_id, "merged", now)
        await notify(target_id, "merged", now)
    signals.announce(source, "fields", actor)
    signals.announce(target, "message", actor)
    return target
