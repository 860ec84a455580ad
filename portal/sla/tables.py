"""SLA data: business calendars and their closed ranges, the ordered policies, and each
ticket's per-target clock state (``ticket_sla``).

``ticket_sla.next_warn_at`` and ``next_breach_at`` are the alarms: set to the warning and
due times while a warning or breach is still to be announced, null otherwise (paused, met,
already announced). The worker reads only rows whose alarm has come (an index range scan),
never every ticket.
"""

from piccolo.columns import Boolean, ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tickets.tables import Ticket


class BusinessCalendar(Table, tablename="sla_calendar"):
    id = Serial(primary_key=True)
    name = Varchar(length=120)
    timezone = Varchar(length=60, default="Europe/Istanbul")
    always_open = Boolean(default=False)  # 24/7
    public_holidays = Boolean(default=True)  # Turkey's, with the half days
    # Opening hours per weekday, "09:00-12:30, 13:30-18:00"; empty: closed that day.
    mon = Varchar(length=200, default="09:00-18:00")
    tue = Varchar(length=200, default="09:00-18:00")
    wed = Varchar(length=200, default="09:00-18:00")
    thu = Varchar(length=200, default="09:00-18:00")
    fri = Varchar(length=200, default="09:00-18:00")
    sat = Varchar(length=200, default="")
    sun = Varchar(length=200, default="")
    is_default = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class CalendarClosure(Table, tablename="sla_calendar_closure"):
    """A range the company is closed (a day, a few days, an afternoon), in UTC."""

    id = Serial(primary_key=True)
    calendar = ForeignKey(references=BusinessCalendar, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=120, default="")
    starts_at = Timestamptz()
    ends_at = Timestamptz()


class SlaPolicy(Table, tablename="sla_policy"):
    """Matched in ``position`` order; an empty condition matches anything. Conditions are
    comma-separated values (priorities, team ids, form slugs, channels, segments)."""

    id = Serial(primary_key=True)
    name = Varchar(length=120)
    position = Integer(default=0)
    active = Boolean(default=True)
    priorities = Varchar(length=100, default="")
    team_ids = Varchar(length=400, default="")
    form_slugs = Varchar(length=600, default="")
    channels = Varchar(length=100, default="")
    segments = Varchar(length=200, default="")
    first_response_minutes = Integer(null=True, default=None)
    next_response_minutes = Integer(null=True, default=None)
    resolution_minutes = Integer(null=True, default=None)
    warn_percent = Integer(default=80)
    pause_on_hold = Boolean(default=False)
    calendar = ForeignKey(references=BusinessCalendar, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class TicketSla(Table, tablename="ticket_sla"):
    """One row per ticket and target: the clock's answer at the ticket's last change."""

    id = Serial(primary_key=True)
    ticket = ForeignKey(references=Ticket, on_delete=OnDelete.cascade, index=True)
    target = Varchar(length=20)  # first_response | next_response | resolution
    policy_id = Integer(null=True, default=None)
    minutes = Integer(default=0)
    start_at = Timestamptz()
    due_at = Timestamptz(null=True, default=None)  # while paused: as if the clock ran on from then
    warn_at = Timestamptz(null=True, default=None)
    met_at = Timestamptz(null=True, default=None)
    paused = Boolean(default=False)
    elapsed_seconds = Integer(default=0)  # business seconds used, at met_at or the last change
    warned_at = Timestamptz(null=True, default=None)
    breached_at = Timestamptz(null=True, default=None)
    next_warn_at = Timestamptz(null=True, default=None, index=True)
    next_breach_at = Timestamptz(null=True, default=None, index=True)
    updated_at = Timestamptz(default=TimestamptzNow())
