"""Routing new tickets: rules (by position, the first match wins unless it goes on), then assignment within the team.

``route_new_ticket`` is registered with ``portal.tickets.service.before_open``: it runs in the
opening transaction before the ticket row is written, amends the ``NewTicket`` and returns
the events to record. Precedence (see ``docs/routing.md``): a rule fills what the opener left
empty (team, assignee), sets the priority only over the default ``normal``, and adds its tags;
a web form's configured team and priority are the form's defaults, which a matching rule
replaces. Then, when the ticket has a team but no assignee, an agent is chosen (round robin
or fewest open tickets among the team's available, active members). Automatic assignment is
switched on per team (off by default, like Freshdesk's groups). When nobody is
available the ticket stays unassigned in the team's queue and the team leads are mailed
(``on_ticket_created``, in the same transaction).

Rules are edited by admins at ``/staff/settings/routing`` (``portal.routing.pages``). Openings
read the active rules from a per-process cache (``portal.tickets.cached``) that is checked
against the ``routing`` settings version on every opening; database triggers move that version
on any change of ``routing_rule`` or of a team's ``auto_assign``, so an edit applies to the next
ticket in every process (``docs/routing.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from piccolo.query.functions.aggregate import Count

from portal import db
from portal.accounts.tables import Team, TeamMember
from portal.i18n import N_
from portal.mail import service as outbox
from portal.orders.tables import Order
from portal.routing.matching import CONDITION_KEYS, Facts, matching_rules
from portal.routing.tables import RoutingRule, TeamAssignment
from portal.tags import service as tags
from portal.tickets import cached, mailing
from portal.tickets import service as tickets
from portal.tickets.rules import CLOSED, PRIORITIES, SOLVED, Actor
from portal.tickets.tables import Message, Ticket, TicketEvent
from portal.value import service as value

if TYPE_CHECKING:
    from portal.tickets.service import NewTicket

ASSIGNMENT_NAMES = {"round_robin": N_("Round robin"), "least_open": N_("Fewest open tickets")}
OPEN_STATUSES = ("new", "open", "pending", "on_hold")
DEFAULT_PRIORITY = "normal"


# --- rules: reading and writing -------------------------------------------------------------------

@dataclass
class RuleData:
    """A rule as the admin form gives it (parsed and validated by the page)."""

    name: str
    active: bool = True
    stop: bool = True
    conditions: dict[str, list[str]] = field(default_factory=dict)
    set_team: int | None = None
    set_priority: str | None = None
    add_tags: list[str] = field(default_factory=list)
    set_assignee: int | None = None

    def has_action(self) -> bool:
        return bool(self.set_team or self.set_priority or self.add_tags or self.set_assignee)


def _loaded(row: dict) -> dict:
    raw = row.get("conditions") or {}
    conditions = json.loads(raw) if isinstance(raw, str) else dict(raw)
    row["conditions"] = {k: list(conditions.get(k) or []) for k in CONDITION_KEYS}
    row["tags_list"] = tags.parse(row.get("add_tags") or "")
    return row


async def list_rules(*, active_only: bool = False) -> list[dict]:
    query = RoutingRule.select(
        RoutingRule.all_columns(), RoutingRule.set_team.slug.as_alias("team_slug"),
        RoutingRule.set_team.name_tr.as_alias("team_name_tr"), RoutingRule.set_team.name_en.as_alias("team_name_en"),
        RoutingRule.set_assignee.name.as_alias("assignee_name"),
    ).order_by(RoutingRule.position).order_by(RoutingRule.id)
    if active_only:
        query = query.where(RoutingRule.active == True)  # noqa: E712
    return [_loaded(r) for r in await query]


_ACTIVE_RULES = ("SELECT id, name, position, active, stop, conditions, set_team, set_priority, add_tags, "
                 "set_assignee FROM routing_rule WHERE active = {} ORDER BY position, id")


async def active_rules() -> list[dict]:
    """The active rules in order, as routing reads them (without the names of teams and
    people); from the per-process cache while the ``routing`` version stays. Read-only."""

    async def load() -> list[dict]:
        return [_loaded(r) for r in await db.fetch_all(_ACTIVE_RULES, True)]

    return await cached.get("routing", "active_rules", load)


async def get_rule(rule_id: int) -> dict | None:
    for rule in await list_rules():
        if rule["id"] == rule_id:
            return rule
    return None


def _values(data: RuleData) -> dict:
    conditions = {k: list(v) for k, v in data.conditions.items() if k in CONDITION_KEYS and v}
    return {
        RoutingRule.name: data.name, RoutingRule.active: data.active, RoutingRule.stop: data.stop,
        RoutingRule.conditions: json.dumps(conditions, ensure_ascii=False),
        RoutingRule.set_team: data.set_team, RoutingRule.set_priority: data.set_priority or None,
        RoutingRule.add_tags: ", ".join(tags.parse(data.add_tags)), RoutingRule.set_assignee: data.set_assignee,
    }


async def create_rule(data: RuleData, *, now: datetime) -> int:
    """A new rule, placed last."""
    async with db.transaction():
        rows = await RoutingRule.raw("SELECT COALESCE(MAX(position), 0) AS p FROM routing_rule")
        values = {c._meta.name: v for c, v in _values(data).items()}
        inserted = await RoutingRule.insert(RoutingRule(
            position=int(rows[0]["p"]) + 10, created_at=now, updated_at=now, **values)).returning(RoutingRule.id)
    return inserted[0]["id"]


async def update_rule(rule_id: int, data: RuleData, *, now: datetime) -> bool:
    async with db.transaction():
        rows = await RoutingRule.update({**_values(data), RoutingRule.updated_at: now}).where(
            RoutingRule.id == rule_id).returning(RoutingRule.id)
    return bool(rows)


async def delete_rule(rule_id: int) -> bool:
    async with db.transaction():
        rows = await RoutingRule.delete().where(RoutingRule.id == rule_id).returning(RoutingRule.id)
    return bool(rows)


async def move_rule(rule_id: int, direction: int) -> bool:
    """Move a rule one place up (-1) or down (+1); positions are renumbered 10, 20, …"""
    async with db.transaction():
        ids = [r["id"] for r in await RoutingRule.select(RoutingRule.id).order_by(
            RoutingRule.position).order_by(RoutingRule.id)]
        if rule_id not in ids:
            return False
        i = ids.index(rule_id)
        j = i + (1 if direction > 0 else -1)
        if 0 <= j < len(ids):
            ids[i], ids[j] = ids[j], ids[i]
        for position, rid in enumerate(ids, start=1):
            await RoutingRule.update({RoutingRule.position: position * 10}).where(RoutingRule.id == rid)
    return True


# --- the facts of a ticket ------------------------------------------------------------------------

async def customer_facts(customer_id: int | None) -> tuple[frozenset[str], str | None]:
    """The customer's tag keys and segment."""
    if not customer_id:
        return frozenset(), None
    names = (await tags.of("customer", [customer_id])).get(customer_id, [])
    return frozenset(tags.key(n) for n in names), await value.segment_of(customer_id)


async def order_status(order_id: int | None) -> str | None:
    if not order_id:
        return None
    row = await Order.select(Order.status).where(Order.id == order_id).first()
    return row["status"] if row else None


async def facts_of_new(new: NewTicket) -> Facts:
    customer_tags, segment = await customer_facts(new.requester_id)
    return Facts(channel=new.channel, form_slug=new.form_slug, subject=new.subject, body=new.body,
                 language=new.language, customer_tags=customer_tags, segment=segment,
                 order_status=await order_status(new.order_id))


async def facts_of_ticket(ticket_id: int) -> Facts | None:
    """The facts of an existing ticket as they are now (the tester's "ticket ref" mode)."""
    ticket = await Ticket.select().where(Ticket.id == ticket_id).first()
    if ticket is None:
        return None
    first = await Message.select(Message.body).where(Message.ticket == ticket_id).order_by(Message.id).first()
    customer_tags, segment = await customer_facts(ticket["requester"])
    return Facts(channel=ticket["channel"], form_slug=ticket["form_slug"], subject=ticket["subject"],
                 body=first["body"] if first else "", language=ticket["language"], customer_tags=customer_tags,
                 segment=segment, order_status=await order_status(ticket["order"]))


_LAZY_FACTS = ("customer_tags", "segments", "order_statuses")


async def _facts_for_rules(new: NewTicket, rules: list[dict]) -> Facts:
    """:func:`facts_of_new`, reading only the facts some rule's conditions look at (a rule
    with no condition on a kind of fact matches whatever that fact is)."""
    used = {k for rule in rules for k in _LAZY_FACTS if rule["conditions"].get(k)}
    customer_tags: frozenset[str] = frozenset()
    if "customer_tags" in used and new.requester_id:
        names = (await tags.of("customer", [new.requester_id])).get(new.requester_id, [])
        customer_tags = frozenset(tags.key(n) for n in names)
    segment = await value.segment_of(new.requester_id) if "segments" in used else None
    status = await order_status(new.order_id) if "order_statuses" in used else None
    return Facts(channel=new.channel, form_slug=new.form_slug, subject=new.subject, body=new.body,
                 language=new.language, customer_tags=customer_tags, segment=segment, order_status=status)


async def which_rules(facts: Facts) -> list[dict]:
    """The rules that would apply to these facts now, in order (the admin tester)."""
    return matching_rules(await list_rules(active_only=True), facts)


# --- assignment within a team ---------------------------------------------------------------------

async def available_agents(team_id: int) -> list[dict]:
    """Active, available members of the team, by id (the round-robin order)."""
    rows = await TeamMember.select(
        TeamMember.staff.id.as_alias("id"), TeamMember.staff.name.as_alias("name"),
    ).where((TeamMember.team == team_id) & (TeamMember.staff.active == True)  # noqa: E712
            & (TeamMember.staff.available == True)).order_by(TeamMember.staff.id)  # noqa: E712
    seen: dict[int, dict] = {}
    for row in rows:
        seen.setdefault(row["id"], row)
    return list(seen.values())


async def _lock_cursor(team_id: int, now: datetime) -> dict:
    """The team's assignment row (made when missing, automatic assignment off), locked until
    the transaction ends on PostgreSQL: concurrent openings for one team take turns here
    (SQLite's BEGIN IMMEDIATE already serialises them)."""
    query = TeamAssignment.select().where(TeamAssignment.team == team_id)
    if not db.is_sqlite():
        query = query.lock_rows()
    row = await query.first()
    if row is None:
        await TeamAssignment.insert(TeamAssignment(team=team_id, last_staff=None, updated_at=now)).on_conflict(
            target=TeamAssignment.team, action="DO NOTHING")
        row = await query.first()
    return row


async def _open_counts(staff_ids: list[int]) -> dict[int, int]:
    rows = await Ticket.select(Ticket.assignee, Count()).where(
        Ticket.assignee.is_in(staff_ids) & Ticket.status.is_in(list(OPEN_STATUSES))).group_by(Ticket.assignee)
    counts = {sid: 0 for sid in staff_ids}
    counts.update({r["assignee"]: r["count"] for r in rows})
    return counts


def next_round_robin(agent_ids: list[int], last: int | None) -> int:
    """The agent after ``last`` in id order, wrapping round; the first when ``last`` is gone."""
    later = [a for a in agent_ids if last is not None and a > last]
    return later[0] if later else agent_ids[0]


@dataclass(frozen=True)
class Pick:
    enabled: bool  # the team assigns automatically
    method: str  # round_robin | least_open
    agent: dict | None = None  # None when enabled: nobody available


async def pick_agent(team_id: int, *, now: datetime) -> Pick:
    """Choose the agent for a new ticket of the team (and move the round-robin cursor), when
    the team assigns automatically. Call inside a transaction."""
    team = await Team.select(Team.assignment).where(Team.id == team_id).first()
    method = team["assignment"] if team and team["assignment"] in ASSIGNMENT_NAMES else "round_robin"
    cursor = await _lock_cursor(team_id, now)
    if not cursor["auto_assign"]:
        return Pick(False, method)
    agents = await available_agents(team_id)
    if not agents:
        return Pick(True, method)
    ids = [a["id"] for a in agents]
    if method == "least_open":
        counts = await _open_counts(ids)
        # Fewest open tickets; a tie goes to whoever comes next after the last one chosen.
        fewest = min(counts.values())
        tied = [i for i in ids if counts[i] == fewest]
        chosen = next_round_robin(tied, cursor["last_staff"])
    else:
        chosen = next_round_robin(ids, cursor["last_staff"])
    await TeamAssignment.update({TeamAssignment.last_staff: chosen, TeamAssignment.updated_at: now}).where(
        TeamAssignment.id == cursor["id"])
    return Pick(True, method, next(a for a in agents if a["id"] == chosen))


async def team_settings() -> list[dict]:
    """Every team with its method, whether it assigns automatically and who is available."""
    teams = await Team.select(Team.id, Team.slug, Team.name_tr, Team.name_en, Team.assignment).order_by(Team.slug)
    enabled = {r["team"]: r["auto_assign"] for r in await TeamAssignment.select(
        TeamAssignment.team, TeamAssignment.auto_assign)}
    members: dict[int, list[dict]] = {}
    for row in await TeamMember.select(
            TeamMember.team, TeamMember.staff.id.as_alias("id"), TeamMember.staff.name.as_alias("name"),
            TeamMember.staff.available.as_alias("available"), TeamMember.staff.active.as_alias("active"),
    ).order_by(TeamMember.staff.name):
        if row["active"]:
            members.setdefault(row["team"], []).append(row)
    for team in teams:
        team["auto_assign"] = enabled.get(team["id"], False)
        team["members"] = members.get(team["id"], [])
    return teams


async def set_team_assignment(team_id: int, *, auto_assign: bool, method: str, now: datetime) -> bool:
    """Turn automatic assignment of a team on or off and choose its method."""
    if method not in ASSIGNMENT_NAMES:
        raise ValueError(method)
    async with db.transaction():
        rows = await Team.update({Team.assignment: method}).where(Team.id == team_id).returning(Team.id)
        if not rows:
            return False
        await _lock_cursor(team_id, now)
        await TeamAssignment.update({TeamAssignment.auto_assign: auto_assign, TeamAssignment.updated_at: now}).where(
            TeamAssignment.team == team_id)
    return True


# --- the hooks ------------------------------------------------------------------------------------

def apply_rule(rule: dict, new: NewTicket, taken: set[str] | None = None) -> list[tuple[str, str, str]]:
    """Amend ``new`` by the rule's actions, by the precedence above; the events to record.
    ``taken`` names the fields an earlier rule of the same opening has set: kept as they are."""
    taken = set() if taken is None else taken
    events: list[tuple[str, str, str]] = [("routing_rule", "", rule["name"])]
    from_form = new.channel == "form"
    if rule["set_team"] and "team" not in taken and (new.team_id is None or from_form):
        new.team_id = rule["set_team"]
        taken.add("team")
    if rule["set_priority"] in PRIORITIES and "priority" not in taken and (
            new.priority == DEFAULT_PRIORITY or from_form):
        new.priority = rule["set_priority"]
        taken.add("priority")
    if rule["tags_list"]:
        new.tags = tags.parse([*new.tags, *rule["tags_list"]])
    if rule["set_assignee"] and new.assignee_id is None:
        new.assignee_id = rule["set_assignee"]
    return events


async def _can_take(staff_id: int) -> bool:
    """Active and available: unavailable agents get no new tickets, whoever names them."""
    return await db.fetch_one("SELECT id FROM staff_user WHERE id = {} AND active = {} AND available = {}",
                              staff_id, True, True) is not None


async def _auto_assigns(team_id: int) -> bool:
    """Does the team assign automatically? (no row: off). From the per-process cache of the
    teams that do, under the ``routing`` version (``auto_assign`` changes move it);
    :func:`pick_agent` locks and reads the row again before it chooses."""

    async def load() -> frozenset[int]:
        rows = await db.fetch_all("SELECT team FROM team_assignment WHERE auto_assign = {}", True)
        return frozenset(r["team"] for r in rows)

    return team_id in await cached.get("routing", "auto_assign_teams", load)


_COUNT_MATCH = "UPDATE routing_rule SET matched_count = matched_count + 1, last_matched_at = {} WHERE id = {}"


async def _count_match(rule_id: int, now: datetime) -> None:
    """Count a match on the rule. On PostgreSQL after the opening commits, in a transaction of
    its own that does not wait for the disk: every opening a rule matches updates its row,
    and holding that row lock until the opening's commit made concurrent openings take turns.
    A crash can lose the last counts (a statistic); the ticket's ``routing_rule`` event is
    written with the ticket. SQLite's write transaction is exclusive anyway: counted in it."""
    if db.is_sqlite():
        await db.fetch_all(_COUNT_MATCH, now, rule_id)
        return

    async def count() -> None:
        if db.in_transaction():  # deferred inside a caller's transaction: part of it
            await db.fetch_all(_COUNT_MATCH, now, rule_id)
            return
        async with db.transaction():
            await db.fetch_all("SET LOCAL synchronous_commit TO OFF")
            await db.fetch_all(_COUNT_MATCH, now, rule_id)

    await tickets.after_commit(count)


async def route_new_ticket(new: NewTicket, requester: dict, now: datetime) -> list[tuple[str, str, str]]:
    events: list[tuple[str, str, str]] = []
    if new.follow_up_of is None:  # a follow-up keeps its original's team and people
        rules = await active_rules()
        taken: set[str] = set()
        for rule in matching_rules(rules, await _facts_for_rules(new, rules)) if rules else []:
            assignee_before = new.assignee_id
            events += apply_rule(rule, new, taken)
            if new.assignee_id != assignee_before and not await _can_take(new.assignee_id):
                new.assignee_id = assignee_before  # the rule names someone unavailable or deactivated
            await _count_match(rule["id"], now)
    if (new.team_id is not None and new.assignee_id is None and new.status not in (SOLVED, CLOSED)
            and await _auto_assigns(new.team_id)):
        pick = await pick_agent(new.team_id, now=now)
        if pick.agent is not None:
            new.assignee_id = pick.agent["id"]
            events.append(("auto_assign", pick.method, pick.agent["name"]))
        elif pick.enabled:
            events.append(("no_agent_available", "", await _team_slug(new.team_id)))
    return events


async def _team_slug(team_id: int) -> str:
    row = await Team.select(Team.slug).where(Team.id == team_id).first()
    return row["slug"] if row else ""


async def team_leads(team_id: int) -> list[dict]:
    return await TeamMember.select(
        TeamMember.staff.email.as_alias("email"), TeamMember.staff.name.as_alias("name"),
        TeamMember.staff.locale.as_alias("locale"),
    ).where((TeamMember.team == team_id) & (TeamMember.is_lead == True)  # noqa: E712
            & (TeamMember.staff.active == True))  # noqa: E712


async def mail_leads_unstaffed(ticket: dict, *, now: datetime) -> int:
    """Tell the team's leads that a ticket waits unassigned because nobody is available."""
    team = await Team.select().where(Team.id == ticket["team"]).first()
    if team is None:
        return 0
    leads = await team_leads(team["id"])
    for lead in leads:
        name = team["name_tr"] if lead["locale"] == "tr" else team["name_en"]
        await outbox.enqueue("team-unstaffed", to=lead["email"], name=lead["name"], locale=lead["locale"],
                             context={"ticket_ref": f"T-{ticket['number']}", "subject": ticket["subject"],
                                      "team_name": name}, now=now, related=f"ticket:{ticket['id']}")
    return len(leads)


@tickets.on_change
async def on_ticket_change(ticket_id: int, what: str, now: datetime) -> None:
    """After the insert: mail the leads when routing found nobody. After a field change that
    moved the ticket to another team without an assignee: assign within the new team."""
    if what == "created":
        opening = tickets.opening(ticket_id)
        if opening is not None:  # open_ticket knows the routing events it has just written
            unstaffed = any(f == "no_agent_available" for f, _old, _new in opening.routed)
        else:
            unstaffed = await TicketEvent.exists().where(
                (TicketEvent.ticket == ticket_id) & (TicketEvent.field == "no_agent_available"))
        if unstaffed:
            ticket = await tickets.load(ticket_id)
            if ticket["team"] is not None and ticket["assignee"] is None:
                await mail_leads_unstaffed(ticket, now=now)
    elif what == "fields":
        await _assign_after_team_move(ticket_id, now)


async def _assign_after_team_move(ticket_id: int, now: datetime) -> None:
    moved = await TicketEvent.exists().where(
        (TicketEvent.ticket == ticket_id) & (TicketEvent.field == "team") & (TicketEvent.created_at == now))
    if not moved:
        return
    ticket = await tickets.load(ticket_id)
    if ticket["team"] is None or ticket["assignee"] is not None or ticket["status"] in (SOLVED, CLOSED):
        return
    pick = await pick_agent(ticket["team"], now=now)
    system = Actor.system()
    if pick.agent is None:
        if pick.enabled:
            await tickets.event(ticket_id, system, "no_agent_available", "", await _team_slug(ticket["team"]), now)
            await mail_leads_unstaffed(ticket, now=now)
        return
    updated = await tickets.apply(ticket, {Ticket.assignee: pick.agent["id"]}, now=now)
    await tickets.event(ticket_id, system, "auto_assign", pick.method, pick.agent["name"], now)
    await mailing.assigned(updated, pick.agent["id"], by_name=system.name, now=now)


tickets.before_open(route_new_ticket)


def describe_conditions(conditions: dict[str, Any]) -> dict[str, list[str]]:
    """Only the condition kinds a rule uses (for the list page)."""
    return {k: v for k, v in conditions.items() if v}
