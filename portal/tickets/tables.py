"""Tickets: every request, whatever door it came in by, with its conversation and history.

People see a ticket as ``T-<number>``; links in e-mails carry a guest token instead, since a
number can be guessed. Every change of a field is a ``TicketEvent`` (who, what, old, new,
when). ``version`` grows with every change: a form or API call says which version it saw,
and a change based on an older one is refused rather than silently overwriting another
agent's work.

The SLA columns are written by the SLA clock (a later app); ``due_at`` is the nearest due
time of the targets not yet met, kept in one column so the queue sorts on one index.
"""

from piccolo.columns import (
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import Customer, StaffUser, Team
from portal.orders.tables import Order


class Ticket(Table, tablename="ticket"):
    id = Serial(primary_key=True)
    number = Integer(unique=True)
    subject = Varchar(length=200)
    subject_key = Text(default="")  # search_fold(subject), for the queue's word search
    # Customers are anonymised, never deleted: a ticket must never vanish with one.
    requester = ForeignKey(references=Customer, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=10, default="new", index=True)
    priority = Varchar(length=10, default="normal")
    channel = Varchar(length=10, default="portal")
    team = ForeignKey(references=Team, on_delete=OnDelete.set_null, null=True, index=True)
    assignee = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True, index=True)
    order = ForeignKey(references=Order, on_delete=OnDelete.set_null, null=True, index=True)
    language = Varchar(length=5, default="tr")
    form_slug = Varchar(length=60, null=True, default=None)  # the request form it came from, if any
    follow_up_of = ForeignKey(references="self", on_delete=OnDelete.set_null, null=True)
    merged_into = ForeignKey(references="self", on_delete=OnDelete.set_null, null=True)
    # Random, per ticket: names the ticket in the Reply-To address of its mails.
    reply_key = Varchar(length=16)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), index=True)
    first_response_at = Timestamptz(null=True, default=None)
    solved_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    # SLA (written by the SLA app; null until a policy applies).
    sla_policy_id = Integer(null=True, default=None)
    first_response_due_at = Timestamptz(null=True, default=None)
    next_response_due_at = Timestamptz(null=True, default=None)
    resolution_due_at = Timestamptz(null=True, default=None)
    next_response_met_at = Timestamptz(null=True, default=None)
    sla_paused_at = Timestamptz(null=True, default=None)
    sla_breached = Boolean(default=False)
    due_at = Timestamptz(null=True, default=None)


class Message(Table, tablename="ticket_message"):
    """A public reply (the customer sees it) or, with ``public`` false, an internal note."""

    id = Serial(primary_key=True)
    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.cascade, index=True)
    author_kind = Varchar(length=10)  # customer | staff | system
    author_customer = ForeignKey(references=Customer, on_delete=OnDelete.set_null, null=True)
    author_staff = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True)
    author_name = Varchar(length=200, default="")  # as it was when written
    body = Text()
    public = Boolean(default=True)
    channel = Varchar(length=10, default="portal")
    created_at = Timestamptz(default=TimestamptzNow())
    # The Message-ID of the mail that carried this message (or announced it), for threading.
    message_id = Varchar(length=250, null=True, default=None, index=True)


class Attachment(Table, tablename="ticket_attachment"):
    """A file of a message, stored under ``var/attachments/<storage_key>`` (random name)."""

    id = Serial(primary_key=True)
    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.cascade, index=True)
    message = ForeignKey(references=Message, on_delete=OnDelete.cascade, index=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=100)
    size = BigInt()
    storage_key = Varchar(length=64, unique=True)
    sha256 = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())


class TicketEvent(Table, tablename="ticket_event"):
    """One change: ``field`` (status, priority, team, assignee, tags, order, created, …) from
    ``old`` to ``new``, by a staff member, the customer, the API or the system."""

    id = Serial(primary_key=True)
    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.cascade, index=True)
    actor_kind = Varchar(length=10)  # staff | customer | api | system
    actor_staff = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True)
    actor_name = Varchar(length=200, default="")  # as it was, for the history
    field = Varchar(length=30)
    old = Text(default="")
    new = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class GuestToken(Table, tablename="ticket_guest_token"):
    """The key in ``/t/{token}`` links: only its SHA-256 is kept; revoking ends the link."""

    id = Serial(primary_key=True)
    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class CannedReply(Table, tablename="canned_reply"):
    """A prepared answer. ``{{ customer_name }}`` and ``{{ order_number }}`` are filled in by
    plain string replacement: the text is never rendered as a template."""

    id = Serial(primary_key=True)
    title = Varchar(length=120)
    body = Text()
    language = Varchar(length=5, default="tr")
    team = ForeignKey(references=Team, on_delete=OnDelete.set_null, null=True)
    created_by = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True)
    created_at = Timestamptz(default=TimestamptzNow())


class CustomerNote(Table, tablename="customer_note"):
    """Staff notes on a customer (never shown to the customer)."""

    id = Serial(primary_key=True)
    customer = ForeignKey(references=Customer, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True)
    author_name = Varchar(length=200, default="")
    body = Text()
    created_at = Timestamptz(default=TimestamptzNow())
