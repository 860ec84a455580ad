"""Routing and assignment on both databases: rules applied at opening with their precedence,
every condition kind through real tickets, round robin and fewest open tickets, agents going
unavailable, a team with nobody available (unassigned, leads mailed), a team move, and
concurrent openings taking turns on the round-robin cursor."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portal import db
from portal.accounts import service as accounts
from portal.accounts import staff as staff_admin
from portal.accounts.tables import Team
from portal.mail.tables import Outbox
from portal.routing import service as routing
from portal.routing.service import RuleData
from portal.routing.tables import RoutingRule
from portal.tags import service as tags
from portal.tickets import changes, service
from portal.tickets.rules import Actor
from portal.tickets.tables import Ticket, TicketEvent
from tests.order_fixtures import create_order

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
async def world(running_app):
    customer = await accounts.find_or_create_customer("ayse@example.com", name="Ayşe Yılmaz", now=T0)
    staff = {}
    for email, name, role, team in [("a1@example.com", "Ali", "agent", "lojistik"),
                                    ("a2@example.com", "Banu", "agent", "lojistik"),
                                    ("a3@example.com", "Cem", "agent", "lojistik"),
                                    ("lead@example.com", "Leyla", "lead", "lojistik"),
                                    ("s1@example.com", "Selin", "agent", "satis")]:
        staff[name] = await accounts.create_staff(email=email, name=name, role=role, password_hash="x", now=T0,
                                                  team=team)
    await staff_admin.set_available(staff["Leyla"]["id"], False)  # the lead takes no tickets herself
    teams = {t["slug"]: t["id"] for t in await Team.select(Team.id, Team.slug)}
    return {"customer": customer, "staff": staff, "teams": teams}


async def _open(world, **kw) -> dict:
    actor = kw.pop("actor", None) or Actor.customer(world["customer"])
    new = service.NewTicket(subject=kw.pop("subject", "Kargom gelmedi"), body=kw.pop("body", "Merhaba"),
                            requester_id=kw.pop("requester_id", world["customer"]["id"]), **kw)
    return (await service.open_ticket(new, actor=actor, now=T0)).ticket


async def _events(ticket_id: int, field: str) -> list[dict]:
    return await TicketEvent.select().where(
        (TicketEvent.ticket == ticket_id) & (TicketEvent.field == field)).order_by(TicketEvent.id)


async def _rule(name: str, **kw) -> int:
    conditions = kw.pop("conditions", {})
    return await routing.create_rule(RuleData(name=name, conditions=conditions, **kw), now=T0)


async def test_a_matching_rule_sets_team_priority_and_tags_and_is_recorded(world):
    lojistik = world["teams"]["lojistik"]
    await _rule("İade", conditions={"words": ["iade", "return"]}, set_team=lojistik, set_priority="high",
                add_tags=["iade"])
    await _rule("Everything", set_team=world["teams"]["satis"])
    ticket = await _open(world, subject="İADE talebi")
    assert (ticket["team"], ticket["priority"]) == (lojistik, "high")
    assert await tags.of("ticket", [ticket["id"]]) == {ticket["id"]: ["iade"]}
    assert [e["new"] for e in await _events(ticket["id"], "routing_rule")] == ["İade"]
    other = await _open(world, subject="Merhaba")
    assert other["team"] == world["teams"]["satis"]  # the first rule did not match, the second did
    rules = {r["name"]: r for r in await routing.list_rules()}
    assert (rules["İade"]["matched_count"], rules["Everything"]["matched_count"]) == (1, 1)
    assert not await RoutingRule.exists().where(RoutingRule.matched_count > 1)


async def test_a_rule_that_goes_on_lets_later_rules_fill_the_rest(world):
    satis, lojistik = world["teams"]["satis"], world["teams"]["lojistik"]
    await _rule("VIP first", stop=False, conditions={"words": ["acil"]}, set_priority="urgent", set_team=satis,
                add_tags=["vip"])
    await _rule("Returns", conditions={"words": ["iade"]}, set_team=lojistik, set_priority="low", add_tags=["iade"])
    await _rule("Never reached", set_priority="high")
    ticket = await _open(world, subject="ACİL iade")
    assert (ticket["team"], ticket["priority"]) == (satis, "urgent")  # the earlier rule's choices stand
    assert sorted((await tags.of("ticket", [ticket["id"]]))[ticket["id"]]) == ["iade", "vip"]
    assert [e["new"] for e in await _events(ticket["id"], "routing_rule")] == ["VIP first", "Returns"]


async def test_inactive_rules_and_no_rules_leave_the_ticket_alone(world):
    await _rule("Off", active=False, set_team=world["teams"]["satis"])
    ticket = await _open(world)
    assert ticket["team"] is None and ticket["priority"] == "normal"
    assert await _events(ticket["id"], "routing_rule") == []


async def test_precedence_explicit_choices_stay_form_defaults_give_way(world):
    satis, lojistik = world["teams"]["satis"], world["teams"]["lojistik"]
    selin, banu = world["staff"]["Selin"]["id"], world["staff"]["Banu"]["id"]
    await _rule("All", set_team=lojistik, set_priority="urgent", set_assignee=selin)
    # A team, priority and assignee chosen by the opener are kept.
    staff_actor = Actor.staff(world["staff"]["Selin"], {satis})
    chosen = await _open(world, channel="phone", team_id=satis, priority="low", assignee_id=banu, actor=staff_actor)
    assert (chosen["team"], chosen["priority"], chosen["assignee"]) == (satis, "low", banu)
    # The default priority and empty fields are filled.
    blank = await _open(world)
    assert (blank["team"], blank["priority"], blank["assignee"]) == (lojistik, "urgent", selin)
    # An unavailable assignee named by the rule gets nothing: the team's assignment decides.
    await staff_admin.set_available(selin, False)
    assert (await _open(world))["assignee"] is None
    # A form's own team and priority are defaults that the rule replaces.
    from_form = await _open(world, channel="form", form_slug="contact", team_id=satis, priority="low")
    assert (from_form["team"], from_form["priority"]) == (lojistik, "urgent")
    # A follow-up keeps what its original had.
    follow = await _open(world, team_id=satis, follow_up_of=chosen["id"])
    assert follow["team"] == satis and await _events(follow["id"], "routing_rule") == []


async def test_conditions_on_customer_tags_segment_language_order_and_form(world):
    cid = world["customer"]["id"]
    satis, lojistik = world["teams"]["satis"], world["teams"]["lojistik"]
    await _rule("VIP", conditions={"customer_tags": ["VIP"]}, set_priority="high")
    await _rule("Champions", conditions={"segments": ["champions"]}, set_priority="urgent")
    await _rule("English", conditions={"languages": ["en"]}, set_team=satis)
    await _rule("Delivered", conditions={"order_statuses": ["delivered"]}, set_team=lojistik)
    await _rule("Return form", conditions={"form_slugs": ["return-request"], "channels": ["form"]},
                set_team=lojistik, add_tags=["iade-formu"])
    assert (await _open(world))["priority"] == "normal"
    assert (await _open(world, language="en"))["team"] == satis
    ticket = await _open(world, channel="form", form_slug="return-request")
    assert ticket["team"] == lojistik and await tags.of("ticket", [ticket["id"]]) == {ticket["id"]: ["iade-formu"]}
    order_id = await create_order("SP-1", "ayse@example.com", status="delivered")
    assert (await _open(world, order_id=order_id))["team"] == lojistik
    # Six orders worth 20,000 TRY in the last days: a champion, before the VIP tag exists.
    for i in range(6):
        await create_order(f"SP-C{i}", "ayse@example.com", total=Decimal("4000"), status="delivered",
                           placed_at=datetime.now(UTC) - timedelta(days=1))
    assert (await _open(world))["priority"] == "urgent"
    await tags.add("customer", [cid], ["vip"], by=None, now=T0)
    assert (await _open(world))["priority"] == "high"  # the VIP rule comes first


async def _auto(world, slug: str, method: str = "round_robin") -> int:
    team_id = world["teams"][slug]
    assert await routing.set_team_assignment(team_id, auto_assign=True, method=method, now=T0)
    return team_id


async def test_round_robin_in_turn_skipping_unavailable_agents(world):
    team = await _auto(world, "lojistik")
    ali, banu, cem = (world["staff"][n]["id"] for n in ("Ali", "Banu", "Cem"))
    got = [(await _open(world, team_id=team))["assignee"] for _ in range(4)]
    assert got == [ali, banu, cem, ali]
    await staff_admin.set_available(banu, False)  # Banu goes unavailable: her turns go to others
    got = [(await _open(world, team_id=team))["assignee"] for _ in range(3)]
    assert got == [cem, ali, cem]
    ticket = await _open(world, team_id=team)
    events = await _events(ticket["id"], "auto_assign")
    assert [(e["old"], e["new"], e["actor_kind"]) for e in events] == [("round_robin", "Ali", "system")]
    mails = await Outbox.select(Outbox.template).where(Outbox.to_addr == "a1@example.com")
    assert {m["template"] for m in mails} == {"ticket-assigned"}


async def test_fewest_open_tickets(world):
    team = await _auto(world, "lojistik", "least_open")
    ali, banu, cem = (world["staff"][n]["id"] for n in ("Ali", "Banu", "Cem"))
    # Ali has two open tickets, Banu one solved and one open, Cem none.
    for who, status in [(ali, "new"), (ali, "open"), (banu, "solved"), (banu, "pending")]:
        t = await _open(world, team_id=world["teams"]["satis"], assignee_id=who)
        await Ticket.update({Ticket.status: status}).where(Ticket.id == t["id"])
    assert (await _open(world, team_id=team))["assignee"] == cem
    assert (await _open(world, team_id=team))["assignee"] in (banu, cem)  # one each now: a tie goes in turn
    third = (await _open(world, team_id=team))["assignee"]
    counts = await routing._open_counts([ali, banu, cem])
    assert counts == {ali: 2, banu: 2, cem: 2} and third in (banu, cem)


async def test_a_team_with_nobody_available_keeps_the_ticket_and_tells_the_leads(world):
    team = await _auto(world, "lojistik")
    for name in ("Ali", "Banu", "Cem"):
        await staff_admin.set_available(world["staff"][name]["id"], False)
    ticket = await _open(world, team_id=team)
    assert ticket["team"] == team and ticket["assignee"] is None
    assert [e["new"] for e in await _events(ticket["id"], "no_agent_available")] == ["lojistik"]
    mails = await Outbox.select().where(Outbox.to_addr == "lead@example.com")
    assert [m["template"] for m in mails] == ["team-unstaffed"]
    assert f"T-{ticket['number']}" in mails[0]["subject"] and "Lojistik" in mails[0]["body_text"]
    # A deactivated agent gets nothing either, and a team that does not assign automatically is quiet.
    satis = world["teams"]["satis"]
    quiet = await _open(world, team_id=satis)
    assert quiet["assignee"] is None and await _events(quiet["id"], "no_agent_available") == []


async def test_moving_a_ticket_to_a_team_assigns_within_it(world):
    team = await _auto(world, "lojistik")
    ticket = await _open(world)
    admin = await accounts.create_staff(email="admin@example.com", name="Dave", role="admin", password_hash="x",
                                        now=T0)
    actor = Actor.staff(admin)
    later = T0 + timedelta(minutes=5)
    await changes.update(ticket["id"], {"team": team}, actor=actor, now=later)
    moved = await service.load(ticket["id"])
    assert moved["team"] == team and moved["assignee"] == world["staff"]["Ali"]["id"]
    assert [e["new"] for e in await _events(ticket["id"], "auto_assign")] == ["Ali"]
    # Choosing an assignee along with the team: no automatic pick.
    other = await _open(world)
    await changes.update(other["id"], {"team": team, "assignee": world["staff"]["Cem"]["id"]}, actor=actor,
                         now=later)
    assert (await service.load(other["id"]))["assignee"] == world["staff"]["Cem"]["id"]


async def test_concurrent_openings_take_turns(world, settings):
    team = await _auto(world, "lojistik")
    ids = [world["staff"][n]["id"] for n in ("Ali", "Banu", "Cem")]
    results = await asyncio.gather(*[_open(world, team_id=team, subject=f"#{i}") for i in range(9)])
    got = [t["assignee"] for t in results]
    assert sorted(got) == sorted(ids * 3), got  # three each: nobody skipped, nobody twice in a row
    by_number = [t["assignee"] for t in sorted(results, key=lambda t: t["number"])]
    assert len(set(by_number)) == 3
    if not db.is_sqlite():
        assert len({t["number"] for t in results}) == 9
