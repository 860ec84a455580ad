"""Ticket rules that write: opening a ticket, replies and notes, status changes, follow-ups,
guest links and closing solved tickets.

No Request objects here: callers pass parsed values, an :class:`Actor` and ``now``. Every
change runs in one transaction with its events and its mail (the outbox is written in the
same transaction). Every write to a ticket row is a compare-and-set on ``version``, so two
changes based on the same state cannot both win; see :func:`apply`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio.to_thread

from portal import db
from portal.i18n import search_fold
from portal.security import new_token, token_hash
from portal.tags import service as tags
from portal.tickets import cached, mailing, signals
from portal.tickets import privacy as _privacy  # noqa: F401 - registers the KVKK export and erasure
from portal.tickets.files import Checked, Storage
from portal.tickets.rules import (
    CHANNELS,
    CLOSE_AFTER,
    CLOSED,
    NEW,
    OPEN,
    PRIORITIES,
    SOLVED,
    Actor,
    StaleVersion,
    TicketError,
    can_transition,
    may_change,
    status_after_customer_reply,
)
from portal.tickets.tables import Attachment, GuestToken, Message, Ticket, TicketEvent

log = logging.getLogger("portal.tickets")

# Called inside the transaction of every change, with (ticket_id, what, now): the SLA clock
# and routing hook in here. ``what``: created, message, status, fields, customer_status (the
# customer closed or reopened it), merged (closed as a duplicate, or received its messages).
Listener = Callable[[int, str, datetime], Awaitable[None]]
LISTENERS: list[Listener] = []


def on_change(fn: Listener) -> Listener:
    LISTENERS.append(fn)
    return fn


async def notify(ticket_id: int, what: str, now: datetime) -> None:
    for listener in LISTENERS:
        await listener(ticket_id, what, now)


# Called by ``open_ticket`` inside its transaction before the ticket row is written, with
# (new, requester, now): a router may amend the NewTicket (team, priority, tags, assignee;
# ``portal.routing``) and returns the events to record on the ticket as (field, old, new).
Router = Callable[["NewTicket", dict, datetime], Awaitable[list[tuple[str, str, str]]]]
ROUTERS: list[Router] = []


def before_open(fn: Router) -> Router:
    ROUTERS.append(fn)
    return fn


# --- reading inside a change ------------------------------------------------------------------

async def load(ticket_id: int) -> dict:
    # Prebuilt SQL: the same row (keys, values, types) as ``Ticket.select()``, without building
    # a Piccolo query (which costs more than running this one).
    row = await db.fetch_one("SELECT * FROM ticket WHERE id = {}", ticket_id)
    if row is None:
        raise TicketError("not_found")
    return row


async def _requester(customer_id: int) -> dict:
    return await db.fetch_one("SELECT id, email, name, locale, deleted_at FROM customer WHERE id = {}",
                              customer_id)


# --- writing ------------------------------------------------------------------------------------

async def event(ticket_id: int, actor: Actor, field_name: str, old: Any, new: Any, now: datetime) -> None:
    await TicketEvent.insert(TicketEvent(
        ticket=ticket_id, actor_kind=actor.kind, actor_staff=actor.staff_id, actor_name=actor.name[:200],
        field=field_name, old="" if old is None else str(old), new="" if new is None else str(new),
        created_at=now))


async def apply(ticket: dict, values: dict, *, now: datetime) -> dict:
    """Write ``values`` if the ticket is still at the version ``ticket`` was read at, and move
    the version on. Raises :class:`StaleVersion` (nothing written) when someone was faster."""
    values = {**values, Ticket.version: ticket["version"] + 1, Ticket.updated_at: now}
    rows = await Ticket.update(values).where(
        (Ticket.id == ticket["id"]) & (Ticket.version == ticket["version"])).returning(Ticket.id)
    if not rows:
        current = await Ticket.select(Ticket.version).where(Ticket.id == ticket["id"]).first()
        raise StaleVersion(current["version"] if current else 0)
    return await load(ticket["id"])


def status_values(ticket: dict, new: str, now: datetime) -> dict:
    """The columns a status change sets, or TicketError when the change is not allowed."""
    old = ticket["status"]
    if not can_transition(old, new):
        raise TicketError("bad_transition", f"{old} -> {new}")
    values: dict = {Ticket.status: new}
    if new == SOLVED:
        values[Ticket.solved_at] = now
    elif new == CLOSED:
        values[Ticket.closed_at] = now
    elif old == SOLVED:
        values[Ticket.solved_at] = None  # reopened
    return values


async def transition(ticket: dict, new: str, *, actor: Actor, now: datetime,
                     extra: dict | None = None) -> dict:
    """The one way a status changes: checked against ``TRANSITIONS``, recorded as an event."""
    if new == ticket["status"] and not extra:
        return ticket
    values = {**(extra or {}), **(status_values(ticket, new, now) if new != ticket["status"] else {})}
    updated = await apply(ticket, values, now=now)
    if new != ticket["status"]:
        await event(ticket["id"], actor, "status", ticket["status"], new, now)
    return updated


@contextlib.asynccontextmanager
async def stored(files: list[Checked], storage: Storage | None) -> AsyncIterator[list[tuple[Checked, str]]]:
    """Write the files first (off the event loop); if the change then fails, remove them."""
    keys: list[str] = []
    try:
        for f in files:
            if storage is None:
                raise ValueError("attachments need a storage")
            keys.append(await anyio.to_thread.run_sync(storage.save, f.data))
        yield list(zip(files, keys, strict=True))
    except BaseException:
        for key in keys:
            storage.delete(key)  # type: ignore[union-attr]
        raise


async def add_message(ticket_id: int, actor: Actor, body: str, *, public: bool, channel: str,
                      files: list[tuple[Checked, str]], now: datetime) -> dict:
    kind = "customer" if actor.kind == "customer" else ("system" if actor.kind == "system" else "staff")
    rows = await Message.insert(Message(
        ticket=ticket_id, author_kind=kind, author_customer=actor.customer_id, author_staff=actor.staff_id,
        author_name=actor.name[:200], body=body, public=public, channel=channel, created_at=now,
    )).returning(Message.id)
    message = await Message.select().where(Message.id == rows[0]["id"]).first()
    if files:
        await Attachment.insert(*[Attachment(
            ticket=ticket_id, message=message["id"], filename=f.filename, content_type=f.content_type,
            size=f.size, storage_key=key, sha256=f.sha256, created_at=now) for f, key in files])
    return message


async def _set_message_id(message_id: int, mail_id: str | None) -> None:
    if mail_id:
        await Message.update({Message.message_id: mail_id}).where(Message.id == message_id)


# --- guest links --------------------------------------------------------------------------------

async def issue_guest_token(ticket_id: int, *, now: datetime) -> str:
    token = new_token(32)
    await db.fetch_all("INSERT INTO ticket_guest_token (ticket, token_hash, created_at) VALUES ({}, {}, {})",
                       ticket_id, token_hash(token), now)
    return token


async def ticket_id_for_guest(token: str) -> int | None:
    if not token or len(token) > 100:
        return None
    row = await GuestToken.select(GuestToken.ticket).where(
        (GuestToken.token_hash == token_hash(token)) & GuestToken.revoked_at.is_null()).first()
    return row["ticket"] if row else None


async def revoke_guest_tokens(ticket_id: int, *, actor: Actor, now: datetime) -> int:
    """Every mailed link of the ticket stops working; the next mail brings a new one."""
    async with db.transaction():
        rows = await GuestToken.update({GuestToken.revoked_at: now}).where(
            (GuestToken.ticket == ticket_id) & GuestToken.revoked_at.is_null()).returning(GuestToken.id)
        if rows:
            await event(ticket_id, actor, "guest_links", len(rows), "revoked", now)
    return len(rows)


# --- opening a ticket ---------------------------------------------------------------------------

@dataclass
class NewTicket:
    subject: str
    body: str
    requester_id: int
    channel: str = "portal"
    priority: str = "normal"
    team_id: int | None = None
    assignee_id: int | None = None
    order_id: int | None = None
    language: str = "tr"
    tags: list[str] = field(default_factory=list)
    files: list[Checked] = field(default_factory=list)
    form_slug: str | None = None
    follow_up_of: int | None = None
    notify_requester: bool = True
    status: str = NEW  # staff logging a call may open it already open, pending or solved


@dataclass(frozen=True)
class Opened:
    ticket: dict
    guest_token: str


@dataclass
class Opening:
    """The ticket :func:`open_ticket` is opening, for its hooks (``on_change`` "created"): the
    row as written, the requester and the routing events, so they need not read them again."""

    ticket: dict
    requester: dict
    routed: list[tuple[str, str, str]]


_OPENING: ContextVar[Opening | None] = ContextVar("portal_ticket_opening", default=None)
_AFTER_COMMIT: ContextVar[list[Callable[[], Awaitable[None]]] | None] = ContextVar(
    "portal_ticket_after_commit", default=None)


@contextlib.asynccontextmanager
async def after_commit_scope() -> AsyncIterator[None]:
    """Collect the work :func:`after_commit` defers and run it when the block ends without an
    error. Enter it outside the transaction (``open_ticket`` does; a caller that wraps
    ``open_ticket`` in its own transaction enters it around that). An inner scope leaves the
    work to the outermost one (which may itself be inside a caller's transaction: then the work
    still runs in that transaction, as if it had not been deferred)."""
    if _AFTER_COMMIT.get() is not None:
        yield
        return
    jobs: list[Callable[[], Awaitable[None]]] = []
    token = _AFTER_COMMIT.set(jobs)
    try:
        yield
    finally:
        _AFTER_COMMIT.reset(token)
    for job in jobs:
        if db.in_transaction():
            await job()
            continue
        try:
            await job()
        except Exception:  # the change has committed: its bookkeeping must not turn it into an error
            log.exception("work after a ticket opening failed")


async def after_commit(job: Callable[[], Awaitable[None]]) -> None:
    """Run ``job`` after the opening's transaction has committed (if it does), or at once when
    nobody collects (inside a caller's transaction). For bookkeeping that must not hold a lock
    for the rest of the opening, such as a counter row every opening updates."""
    jobs = _AFTER_COMMIT.get()
    if jobs is None:
        await job()
    else:
        jobs.append(job)


def opening(ticket_id: int) -> Opening | None:
    """The ticket being opened in this task, if it is ``ticket_id`` (inside its transaction)."""
    current = _OPENING.get()
    return current if current is not None and current.ticket["id"] == ticket_id else None


# ``T-`` numbers count up from 1001. SQLite's write transaction is already exclusive, so
# MAX(number) + 1 (an index look-up) in the INSERT itself is safe; on PostgreSQL a sequence
# gives each opening its number without making concurrent openings wait for one another (a
# rolled-back opening leaves its number unused). Everything else a form needs is written with
# prebuilt SQL and RETURNING: building a Piccolo query costs more than running it.
_NUMBER_SQLITE = "(SELECT COALESCE(MAX(number), 1000) + 1 FROM ticket)"
_NUMBER_PG = "1000 + nextval('ticket_number_seq')"
_INSERT_TICKET = (
    'INSERT INTO ticket (number, subject, subject_key, requester, status, priority, channel, team, assignee, '
    '"order", language, form_slug, follow_up_of, reply_key, version, created_at, updated_at, sla_breached) '
    "VALUES ({number}, " + "{{}}, " * 13 + "1, {{}}, {{}}, {{}}) RETURNING *")
_INSERT_MESSAGE = (
    "INSERT INTO ticket_message (ticket, author_kind, author_customer, author_staff, author_name, body, public, "
    "channel, created_at, message_id) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING *")
_EVENT_ROW = "({}, {}, {}, {}, {}, {}, {}, {})"


async def _insert_ticket(new: NewTicket, now: datetime) -> dict:
    sql = _INSERT_TICKET.format(number=_NUMBER_SQLITE if db.is_sqlite() else _NUMBER_PG)
    row = await db.fetch_one(
        sql, new.subject, search_fold(new.subject), new.requester_id, NEW, new.priority, new.channel, new.team_id,
        new.assignee_id, new.order_id, new.language, new.form_slug, new.follow_up_of, new_token(9)[:12], now, now,
        False)
    return row  # type: ignore[return-value]


async def events(ticket_id: int, rows: list[tuple[Actor, str, Any, Any]], now: datetime) -> None:
    """Several events of one ticket in one INSERT, recorded in the order given."""
    if not rows:
        return
    args: list[Any] = []
    for actor, field_name, old, new in rows:
        args += [ticket_id, actor.kind, actor.staff_id, actor.name[:200], field_name,
                 "" if old is None else str(old), "" if new is None else str(new), now]
    await db.fetch_all(
        'INSERT INTO ticket_event (ticket, actor_kind, actor_staff, actor_name, field, "old", "new", created_at) '
        "VALUES " + ", ".join([_EVENT_ROW] * len(rows)), *args)


async def _first_message(ticket_id: int, actor: Actor, body: str, *, channel: str,
                         files: list[tuple[Checked, str]], now: datetime, message_id: str | None) -> dict:
    kind = "customer" if actor.kind == "customer" else ("system" if actor.kind == "system" else "staff")
    message = await db.fetch_one(_INSERT_MESSAGE, ticket_id, kind, actor.customer_id, actor.staff_id,
                                 actor.name[:200], body, True, channel, now, message_id)
    if files:
        await Attachment.insert(*[Attachment(
            ticket=ticket_id, message=message["id"], filename=f.filename, content_type=f.content_type,  # type: ignore[index]
            size=f.size, storage_key=key, sha256=f.sha256, created_at=now) for f, key in files])
    return message  # type: ignore[return-value]


async def open_ticket(new: NewTicket, *, actor: Actor, now: datetime,
                      storage: Storage | None = None, requester: dict | None = None) -> Opened:
    """A new ticket with its first message. The requester gets a confirmation with a guest
    link (unless ``notify_requester`` is off); an assignee other than the actor is told.
    ``requester``: the requester's customer row when the caller has just read it (in the
    same transaction), instead of reading it again."""
    if new.channel not in CHANNELS:
        raise TicketError("bad_channel")
    if new.priority not in PRIORITIES:
        raise TicketError("bad_priority")
    async with after_commit_scope(), stored(new.files, storage) as files, db.transaction(), cached.pinned():
        if requester is None or requester.get("id") != new.requester_id:
            requester = await _requester(new.requester_id)
        if requester is None:
            raise TicketError("no_requester")
        routed = [e for router in ROUTERS for e in await router(new, requester, now)]
        ticket = await _insert_ticket(new, now)
        # A request typed by staff (a phone call) is written by them; anything else by the requester.
        by_staff = new.channel in ("phone", "staff") and actor.kind == "staff"
        author = actor if by_staff else Actor.customer(requester)
        # The confirmation's Message-ID is known before it is queued: the message carries it
        # from its INSERT (the mail threads on it) instead of an UPDATE afterwards.
        mail_id = mailing.confirmation_id(ticket, requester) if new.notify_requester else None
        message = await _first_message(ticket["id"], author, new.body, channel=new.channel, files=files, now=now,
                                       message_id=mail_id)
        system = Actor.system()
        await events(ticket["id"], [(actor, "created", "", new.channel),
                                    *[(system, f, old, value) for f, old, value in routed]], now)
        if new.status != NEW:
            ticket = await transition(ticket, new.status, actor=actor, now=now)
        if new.tags:
            await tags.add_to_new("ticket", ticket["id"], new.tags, by=actor.staff_id, now=now)
        token = await issue_guest_token(ticket["id"], now=now)
        if mail_id:
            await mailing.confirmation(ticket, requester, message, token=token, now=now, message_id=mail_id)
        if new.assignee_id is not None and new.assignee_id != actor.staff_id:
            await mailing.assigned(ticket, new.assignee_id, by_name=actor.name, now=now)
        context = _OPENING.set(Opening(ticket=ticket, requester=requester, routed=routed))
        try:
            await notify(ticket["id"], "created", now)
        finally:
            _OPENING.reset(context)
        ticket = await load(ticket["id"])

    async def announce() -> None:
        signals.announce(ticket, "created", actor)

    # Once the ticket exists for others: at once here, or when a caller's own transaction
    # commits (a form submission, which may still roll back when its token was used twice).
    await after_commit(announce)
    return Opened(ticket=ticket, guest_token=token)


# --- replies --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Replied:
    ticket: dict  # the ticket the reply landed on: a new follow-up when the first was closed
    message: dict
    follow_up: bool = False
    guest_token: str | None = None  # for a follow-up: its own guest link


async def reply_as_customer(ticket_id: int, actor: Actor, body: str, *, now: datetime,
                            files: list[Checked] | None = None, storage: Storage | None = None,
                            channel: str = "portal") -> Replied:
    """The requester writes. A solved, pending or on-hold ticket opens again; a closed one
    stays closed and the reply starts a follow-up ticket linked to it."""
    files = files or []
    ticket = await load(ticket_id)
    if ticket["status"] == CLOSED:
        return await _follow_up(ticket, actor, body, files=files, now=now, storage=storage, channel=channel)
    async with stored(files, storage) as saved, db.transaction():
        ticket = await load(ticket_id)
        message = await add_message(ticket_id, actor, body, public=True, channel=channel, files=saved,
                                    now=now)
        ticket = await transition(ticket, status_after_customer_reply(ticket["status"]), actor=actor, now=now,
                                  extra={Ticket.updated_at: now})
        requester = await _requester(ticket["requester"])
        await mailing.customer_replied(ticket, requester, message, now=now)
        await notify(ticket_id, "message", now)
    signals.announce(ticket, "message", actor)
    return Replied(ticket=ticket, message=message)


async def _follow_up(closed: dict, actor: Actor, body: str, *, files: list[Checked], now: datetime,
                     storage: Storage | None, channel: str) -> Replied:
    new = NewTicket(subject=closed["subject"], body=body, requester_id=closed["requester"], channel=channel,
                    priority=closed["priority"], team_id=closed["team"], assignee_id=closed["assignee"],
                    order_id=closed["order"], language=closed["language"], files=files,
                    follow_up_of=closed["id"])
    async with db.transaction():
        opened = await open_ticket(new, actor=actor, now=now, storage=storage)
        await event(closed["id"], actor, "follow_up", "", opened.ticket["number"], now)
        message = await Message.select().where(Message.ticket == opened.ticket["id"]).first()
    return Replied(ticket=opened.ticket, message=message, follow_up=True, guest_token=opened.guest_token)


@dataclass
class SolvingReply:
    """A public reply that solves its ticket, for the hook that mails the "solved" notice
    (``on_change``, :func:`solving_reply`): that mail carries the reply, so the requester gets
    one mail, not two. The hook calls :meth:`mailed`; if none does, :func:`reply_as_staff`
    mails the reply on its own, as for any reply."""

    ticket_id: int
    message: dict
    author_name: str
    token: str  # the guest link issued for the reply
    handled: bool = False
    mail_id: str | None = None

    def mailed(self, mail_id: str | None) -> None:
        self.handled, self.mail_id = True, mail_id


_SOLVING_REPLY: ContextVar[SolvingReply | None] = ContextVar("portal_ticket_solving_reply", default=None)


def solving_reply(ticket_id: int) -> SolvingReply | None:
    """The public reply solving ``ticket_id`` in this task, if any (inside its transaction)."""
    current = _SOLVING_REPLY.get()
    return current if current is not None and current.ticket_id == ticket_id and not current.handled else None


async def reply_as_staff(ticket_id: int, actor: Actor, body: str, *, public: bool, status: str | None = None,
                         expected_version: int | None = None, files: list[Checked] | None = None,
                         now: datetime, storage: Storage | None = None) -> dict:
    """A public reply (mailed to the requester) or an internal note, optionally with a new
    status. Any staff member may add a note; a reply or a status change needs
    :func:`may_change`. A status change based on an old version is refused, text and all, so
    the agent can look again; a plain reply or note never conflicts. A reply that solves the
    ticket goes to the requester inside the "solved" mail (:class:`SolvingReply`): one mail."""
    files = files or []
    async with stored(files, storage) as saved, db.transaction():
        ticket = await load(ticket_id)
        if (public or status) and not may_change(actor, ticket):
            raise TicketError("forbidden")
        if public and ticket["status"] == CLOSED:
            raise TicketError("closed")
        if status and status != ticket["status"] and expected_version not in (None, ticket["version"]):
            raise StaleVersion(ticket["version"])
        channel = "staff" if actor.kind == "staff" else "api"
        message = await add_message(ticket_id, actor, body, public=public, channel=channel, files=saved,
                                    now=now)
        new_status = status or (OPEN if public and ticket["status"] == NEW else ticket["status"])
        extra: dict = {Ticket.updated_at: now}
        if public and ticket["first_response_at"] is None:
            extra[Ticket.first_response_at] = now
        ticket = await transition(ticket, new_status, actor=actor, now=now, extra=extra)
        if public and ticket["status"] == SOLVED and ticket["solved_at"] == now:
            # This reply solves the ticket: the "solved" hook mails it inside its notice.
            solving = SolvingReply(ticket_id=ticket_id, message=message, author_name=actor.name,
                                   token=await issue_guest_token(ticket_id, now=now))
            context = _SOLVING_REPLY.set(solving)
            try:
                await notify(ticket_id, "message", now)
            finally:
                _SOLVING_REPLY.reset(context)
            mail_id = solving.mail_id
            if not solving.handled:
                mail_id = await mailing.agent_reply(ticket, await _requester(ticket["requester"]), message,
                                                    author_name=actor.name, token=solving.token, now=now)
            await _set_message_id(message["id"], mail_id)
        else:
            if public:
                requester = await _requester(ticket["requester"])
                token = await issue_guest_token(ticket_id, now=now)
                mail_id = await mailing.agent_reply(ticket, requester, message, author_name=actor.name,
                                                    token=token, now=now)
                await _set_message_id(message["id"], mail_id)
            await notify(ticket_id, "message", now)
    signals.announce(ticket, "message", actor)
    return ticket


async def customer_set_status(ticket_id: int, actor: Actor, action: str, *, now: datetime) -> dict:
    """The only statuses a customer sets: ``close`` (I need no more help: solved) and
    ``reopen`` (a solved ticket opens again). Anything else is refused."""
    target = {"close": SOLVED, "reopen": OPEN}.get(action)
    if target is None:
        raise TicketError("bad_action")
    async with db.transaction():
        ticket = await load(ticket_id)
        if ticket["status"] == target:
            return ticket
        if action == "reopen" and ticket["status"] != SOLVED:
            raise TicketError("bad_transition")
        ticket = await transition(ticket, target, actor=actor, now=now)
        # Its own kind: the SLA clock stops or restarts; the "solved" mail is not sent to
        # the customer who just closed the request themselves.
        await notify(ticket_id, "customer_status", now)
    signals.announce(ticket, "status", actor)
    return ticket


# --- housekeeping -------------------------------------------------------------------------------

async def close_stale(now: datetime, *, batch: int = 500) -> int:
    """Close tickets solved at least ``CLOSE_AFTER`` ago (the worker calls this). Each is a
    compare-and-set, so two workers close a ticket once and a reply that reopened it wins."""
    closed = 0
    system = Actor.system()
    while True:
        rows = await Ticket.select().where(
            (Ticket.status == SOLVED) & (Ticket.solved_at <= now - CLOSE_AFTER)
        ).order_by(Ticket.solved_at).limit(batch)
        done = 0
        for ticket in rows:
            try:
                async with db.transaction():
                    closed_ticket = await transition(ticket, CLOSED, actor=system, now=now)
                    done += 1
                signals.announce(closed_ticket, "status", system)
            except (StaleVersion, TicketError):
                continue  # changed meanwhile: reopened, or another worker closed it
        closed += done
        if len(rows) < batch or not done:
            return closed
