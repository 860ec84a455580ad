"""Routing rules and automatic assignment per team.

A rule's conditions are one JSON object of lists (``channels``, ``form_slugs``, ``words``,
``customer_tags``, ``segments``, ``languages``, ``order_statuses``); an empty or missing list
means "any". Its actions are columns: team, priority, tags (comma separated), assignee.
"""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import StaffUser, Team


class RoutingRule(Table, tablename="routing_rule"):
    id = Serial(primary_key=True)
    name = Varchar(length=120)
    position = Integer(default=0, index=True)  # checked in ascending order (see ``stop``)
    active = Boolean(default=True)
    # After a match: stop (the default), or go on to later rules, which may fill in what this
    # one left alone (like a Zendesk trigger without "stop processing").
    stop = Boolean(default=True)
    conditions = JSON(default="{}")
    set_team = ForeignKey(references=Team, on_delete=OnDelete.set_null, null=True, default=None)
    set_priority = Varchar(length=10, null=True, default=None)
    add_tags = Text(default="")
    set_assignee = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True, default=None)
    matched_count = Integer(default=0)
    last_matched_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TeamAssignment(Table, tablename="team_assignment"):
    """Automatic assignment of one team: on or off (off for a team without a row; the method,
    round robin or fewest open tickets, is ``Team.assignment``), and the round-robin cursor:
    the last agent given a ticket. The row is also the lock concurrent openings take turns on."""

    id = Serial(primary_key=True)
    team = ForeignKey(references=Team, on_delete=OnDelete.cascade, unique=True)
    auto_assign = Boolean(default=False)
    last_staff = ForeignKey(references=StaffUser, on_delete=OnDelete.set_null, null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
