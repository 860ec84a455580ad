"""The ticket mails: each is a template folder plus one function that builds its context.

Threading: every mail has its own ``Message-ID``; mails to the requester are one thread per
ticket (``In-Reply-To`` the latest, ``References`` the first and the latest few), and their
ids are kept on the messages they carried. The ``Reply-To`` names the ticket with its random
``reply_key`` (``support+T-1042.k3y@domain``), so a reply by mail can find the ticket and a
guessed ticket number alone cannot. Message text is data: it is escaped in the HTML part and
never rendered as a template.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr

from portal.accounts.tables import StaffUser
from portal.mail import service as outbox
from portal.tickets import text
from portal.tickets.rules import ref
from portal.tickets.tables import Message

REFERENCES_KEPT = 10


def reply_address(ticket: dict) -> str:
    """``local+T-1042.<reply_key>@domain`` from ``PORTAL_MAIL_FROM``."""
    address = parseaddr(outbox.config().mail_from)[1] or "support@localhost"
    local, _, domain = address.rpartition("@")
    local = local.split("+", 1)[0] or "support"
    return f"{local}+{ref(ticket['number'])}.{ticket['reply_key']}@{domain}"


async def thread_ids(ticket_id: int) -> list[str]:
    return await Message.select(Message.message_id).where(
        (Message.ticket == ticket_id) & Message.message_id.is_not_null()
    ).order_by(Message.id).output(as_list=True)


def thread_headers(ticket: dict, previous: list[str]) -> dict[str, str]:
    headers = {"Reply-To": reply_address(ticket)}
    if previous:
        kept = previous
        if len(previous) > REFERENCES_KEPT:
            kept = [previous[0], *previous[-(REFERENCES_KEPT - 1):]]
        headers["In-Reply-To"] = previous[-1]
        headers["References"] = " ".join(kept)
    return headers


def _deliverable(customer: dict) -> bool:
    return bool(customer.get("email")) and customer.get("deleted_at") is None


def _common(ticket: dict, message: dict | None = None) -> dict:
    body = message["body"] if message else ""
    return {
        "ticket_ref": ref(ticket["number"]),
        "subject": ticket["subject"],
        "body": body,
        "body_html": text.body_html(body),
    }


def confirmation_id(ticket: dict, requester: dict) -> str | None:
    """The Message-ID the confirmation of a new ticket will have, or None when it will not be
    sent (no deliverable address); pass it to :func:`confirmation`."""
    return outbox.new_message_id(ref(ticket["number"])) if _deliverable(requester) else None


async def confirmation(ticket: dict, requester: dict, message: dict, *, token: str,
                       now: datetime, message_id: str | None = None) -> str | None:
    """To the requester: we have your request; here is the link to follow it."""
    if not _deliverable(requester):
        return None
    message_id = message_id or outbox.new_message_id(ref(ticket["number"]))
    headers = {**thread_headers(ticket, []), "Auto-Submitted": "auto-replied",
               "X-Auto-Response-Suppress": "All"}
    # Anybody can type any address into a public form: its confirmation does not quote the
    # message (nor a name typed there), so it cannot carry a stranger's text to the address.
    from_form = ticket.get("channel") == "form"
    await outbox.enqueue("ticket-created", to=requester["email"], name="" if from_form else requester["name"],
                         locale=requester["locale"],
                         context={**_common(ticket, None if from_form else message), "token": token},
                         now=now, related=f"ticket:{ticket['id']}", headers=headers, message_id=message_id)
    return message_id


async def agent_reply(ticket: dict, requester: dict, message: dict, *, author_name: str, token: str,
                      now: datetime) -> str | None:
    """To the requester: an agent's public reply, in the ticket's thread."""
    if not _deliverable(requester):
        return None
    message_id = outbox.new_message_id(ref(ticket["number"]))
    headers = thread_headers(ticket, await thread_ids(ticket["id"]))
    context = {**_common(ticket, message), "token": token, "author_name": author_name,
               "status": ticket["status"]}
    await outbox.enqueue("ticket-reply", to=requester["email"], name=requester["name"],
                         locale=requester["locale"], context=context, now=now,
                         related=f"ticket:{ticket['id']}", headers=headers, message_id=message_id)
    return message_id


async def _staff_row(staff_id: int | None) -> dict | None:
    if staff_id is None:
        return None
    return await StaffUser.select(StaffUser.id, StaffUser.email, StaffUser.name, StaffUser.locale).where(
        (StaffUser.id == staff_id) & (StaffUser.active == True)  # noqa: E712
    ).first()


async def customer_replied(ticket: dict, requester: dict, message: dict, *, now: datetime) -> None:
    """To the assignee: the customer wrote again."""
    assignee = await _staff_row(ticket["assignee"])
    if assignee is None:
        return
    who = requester.get("name") or requester.get("email", "")
    context = {**_common(ticket, message), "customer_name": who}
    await outbox.enqueue("ticket-customer-reply", to=assignee["email"], name=assignee["name"],
                         locale=assignee["locale"], context=context, now=now,
                         related=f"ticket:{ticket['id']}",
                         headers=thread_headers(ticket, await thread_ids(ticket["id"])),
                         message_id=outbox.new_message_id(ref(ticket["number"])))


async def assigned(ticket: dict, staff_id: int, *, by_name: str, now: datetime) -> None:
    """To the new assignee: this ticket is yours now."""
    assignee = await _staff_row(staff_id)
    if assignee is None:
        return
    context = {**_common(ticket), "by_name": by_name, "priority": ticket["priority"]}
    await outbox.enqueue("ticket-assigned", to=assignee["email"], name=assignee["name"],
                         locale=assignee["locale"], context=context, now=now,
                         related=f"ticket:{ticket['id']}",
                         message_id=outbox.new_message_id(ref(ticket["number"])))


async def solved(ticket: dict, requester: dict, *, token: str, survey_token: str | None, now: datetime,
                 reply: dict | None = None, author_name: str = "") -> str | None:
    """To the requester: your request is solved; with ``survey_token``, "how did we do?" and
    five one-click scores (``/s/{token}?score=N``; the page stores the vote with a POST).

    With ``reply`` (the agent's public reply that solved it) the mail is that reply with the
    notice under it, in place of :func:`agent_reply`: the same text, subject and thread, and
    not marked as automatic. Returns the Message-ID, for the caller to keep on the reply."""
    if not _deliverable(requester):
        return None
    headers = thread_headers(ticket, await thread_ids(ticket["id"]))
    if reply is None:
        headers["Auto-Submitted"] = "auto-generated"
    context = {**_common(ticket, reply), "token": token, "survey_token": survey_token, "scores": [1, 2, 3, 4, 5],
               "reply": reply is not None, "author_name": author_name}
    message_id = outbox.new_message_id(ref(ticket["number"]))
    await outbox.enqueue("ticket-solved", to=requester["email"], name=requester["name"],
                         locale=requester["locale"], context=context, now=now,
                         related=f"ticket:{ticket['id']}", headers=headers, message_id=message_id)
    return message_id
