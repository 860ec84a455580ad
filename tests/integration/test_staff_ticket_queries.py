"""The staff ticket page's prebuilt queries (``portal.tickets.queries``) return what the query
builder versions and the other apps' functions return (same keys, values, types and order) on
both databases: the ticket, the thread with attachments, the events, the form choices and the
side panel read in one query."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from portal.accounts import service as accounts
from portal.accounts.tables import StaffUser, Team, TeamMember
from portal.clock import now
from portal.surveys import results as survey_results
from portal.surveys.tables import SurveyRequest
from portal.tags import service as tags
from portal.tickets import canned, customers, queries, service
from portal.tickets.rules import Actor
from portal.tickets.tables import Attachment, Message, Ticket, TicketEvent
from portal.value import service as customer_value
from portal.value.tables import CustomerValue
from tests.order_fixtures import create_order


def _types(rows: list[dict] | dict | None) -> object:
    if isinstance(rows, dict):
        return {k: type(v) for k, v in rows.items()}
    return [_types(r) for r in rows or []]


async def _open(customer: dict, subject: str) -> dict:
    new = service.NewTicket(subject=subject, body="Merhaba", requester_id=customer["id"], notify_requester=False)
    return (await service.open_ticket(new, actor=Actor.customer(customer), now=now())).ticket


async def _world(carol) -> tuple[dict, dict]:
    customer = await accounts.find_or_create_customer("ayse@example.com", name="Ayşe Yılmaz", now=now())
    tickets = [await _open(customer, f"Konu {i}") for i in range(13)]
    ticket = tickets[3]
    await tags.add("ticket", [ticket["id"]], ["zarf", "İade", "çanta", "ağ"], by=None, now=now())
    await tags.add("customer", [customer["id"]], ["Öncelikli", "bayi", "Çok satan"], by=None, now=now())
    for i in range(7):
        await create_order(f"SP-{i}", "ayse@example.com", total=Decimal("10.50") + i,
                           placed_at=now() - timedelta(days=i * 3 % 7, hours=i))
    await CustomerValue.delete().where(CustomerValue.customer == customer["id"])  # the import computed one
    await CustomerValue.insert(CustomerValue(customer=customer["id"], recency_days=3, frequency=7,
                                             monetary=Decimal("1234.56"), r=5, f=4, m=3, segment="champions"))
    await SurveyRequest.insert(SurveyRequest(kind="csat", token_hash="a" * 64, customer=customer["id"],
                                             ticket=ticket["id"], agent=carol.id, sent_at=now(),
                                             expires_at=now() + timedelta(days=7), answered_at=now(), score=4,
                                             comment="İyi"))
    lead = Actor("staff", "Carol", staff_id=carol.id, role="lead")
    await service.reply_as_staff(ticket["id"], lead, "Bir not", public=False, now=now())
    messages = await Message.select(Message.id).where(Message.ticket == ticket["id"]).order_by(Message.id)
    await Attachment.insert(*[
        Attachment(ticket=ticket["id"], message=m["id"], filename=f"foto-{n}.png", content_type="image/png",
                   size=1000 + n, storage_key=f"key-{n}", sha256="0" * 64)
        for n, m in enumerate(messages[:1] * 2 + messages[1:])])
    return customer, ticket


async def test_side_panel_in_one_query_matches_the_separate_reads(client, carol) -> None:
    customer, ticket = await _world(carol)
    panel = await queries.customer_panel(customer["id"], ticket["id"])
    expected = {
        "requester": await customers.get(customer["id"]),
        "customer_value": await customer_value.value_of(customer["id"]),
        "customer_tags": (await tags.of("customer", [customer["id"]]))[customer["id"]],
        "ticket_tags": (await tags.of("ticket", [ticket["id"]]))[ticket["id"]],
        "customer_orders": await customers.orders(customer["id"], limit=5),
        "other_tickets": await queries.other_tickets(customer["id"], exclude=ticket["id"]),
        "satisfaction": await survey_results.of_ticket(ticket["id"]),
    }
    assert panel == expected
    assert {k: _types(v) for k, v in panel.items() if k not in ("customer_tags", "ticket_tags")} == {
        k: _types(v) for k, v in expected.items() if k not in ("customer_tags", "ticket_tags")}
    assert len(panel["customer_orders"]) == 5 and len(panel["other_tickets"]) == 10
    assert panel["ticket_tags"] == ["ağ", "çanta", "İade", "zarf"]
    # Another ticket of nobody's survey, a customer without value, tags or orders.
    other = await accounts.find_or_create_customer("bob@example.com", name="Bob", now=now())
    lone = await _open(other, "Tek")
    empty = await queries.customer_panel(other["id"], lone["id"])
    assert empty["customer_value"] is None and empty["satisfaction"] is None
    assert empty["customer_tags"] == empty["ticket_tags"] == empty["customer_orders"] == empty["other_tickets"] == []


async def test_ticket_thread_and_events_match_the_query_builder(client, carol) -> None:
    _customer, ticket = await _world(carol)
    row = await Ticket.select(*Ticket.all_columns(), *queries._DETAIL).where(Ticket.id == ticket["id"]).first()
    found = await queries.ticket_for_staff(f"T-{ticket['number']}")
    assert found is not None and found.pop("ref") == f"T-{ticket['number']}"
    assert found == row and _types(found) == _types(row) and list(found) == list(row)
    for internal in (True, False):
        messages = await queries.thread(ticket["id"], internal=internal)
        where = Message.ticket == ticket["id"]
        if not internal:
            where &= Message.public == True  # noqa: E712
        expected = await Message.select().where(where).order_by(Message.id)
        assert [{k: v for k, v in m.items() if k not in ("attachments", "body_html")} for m in messages] == expected
        assert _types([{k: v for k, v in m.items() if k not in ("attachments", "body_html")} for m in messages]) == \
            _types(expected)
        files = await Attachment.select(Attachment.id, Attachment.message, Attachment.filename, Attachment.size,
                                        Attachment.content_type).where(
            Attachment.message.is_in([m["id"] for m in expected])).order_by(Attachment.id)
        assert [a for m in messages for a in m["attachments"]] == files
    assert len((await queries.thread(ticket["id"], internal=True))[0]["attachments"]) == 2
    assert len(await queries.thread(ticket["id"], internal=True)) == 2
    assert len(await queries.thread(ticket["id"], internal=False)) == 1
    events = await queries.events(ticket["id"])
    expected_events = await TicketEvent.select().where(TicketEvent.ticket == ticket["id"]).order_by(TicketEvent.id)
    assert events == expected_events and _types(events) == _types(expected_events)


async def test_form_choices_in_one_query(client, carol, erin) -> None:
    await accounts.ensure_team("satis")
    await canned.create(title="Kargo", body="...", language="tr", team_id=None, by=None, now=now())
    await canned.create(title="Abroad", body="...", language="en", team_id=None, by=None, now=now())
    await canned.create(title="Ağ", body="...", language="tr", team_id=None, by=None, now=now())
    await StaffUser.update({StaffUser.active: False}).where(StaffUser.id == erin.id)
    choices = await queries.staff_choices(carol.id, canned=True)
    assert choices.teams == await Team.select(Team.id, Team.slug, Team.name_tr, Team.name_en).order_by(Team.slug)
    assert choices.agents == await StaffUser.select(StaffUser.id, StaffUser.name, StaffUser.email,
                                                    StaffUser.role).where(StaffUser.active == True).order_by(  # noqa: E712
        StaffUser.name)
    assert [a["id"] for a in choices.agents] == [carol.id]
    assert choices.team_ids == {r["team"] for r in await TeamMember.select(TeamMember.team).where(
        TeamMember.staff == carol.id)} != set()
    assert [(c["language"], c["title"]) for c in choices.canned] == [
        (c["language"], c["title"]) for c in await canned.all_replies()]
    assert (await queries.staff_choices(carol.id)).canned == []
    assert choices.teams == await queries.teams() and choices.agents == await queries.agents()
