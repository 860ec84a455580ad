"""No N+1: the number of SQL queries a list page runs does not grow with its rows.

Each test renders a page with a few rows, adds many more (with the joins a row can need:
team, assignee, tags, attachments), renders it again and compares the engine's query
counters (``PortalSQLiteEngine.query_count`` / ``PortalPostgresEngine.query_count``). A
query per row would add tens of queries; the counts must be equal.
"""

from __future__ import annotations

from datetime import timedelta

from portal import db
from portal.accounts import service as accounts
from portal.clock import now
from portal.tags import service as tags
from portal.tickets import service
from portal.tickets.rules import Actor
from portal.tickets.tables import Attachment, Message, Ticket
from tests.conftest import login, staff_login
from tests.order_fixtures import create_order, sample_order


async def _queries(client, path: str) -> tuple[int, str]:
    engine = db.current_engine()
    before = engine.query_count
    response = await client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return engine.query_count - before, response.text


async def _tickets(n: int, *, email: str, team: str | None = "destek", assignee: int | None = None) -> list[dict]:
    customer = await accounts.find_or_create_customer(email, name="Ayşe Yılmaz", now=now())
    team_id = (await accounts.ensure_team(team))["id"] if team else None
    out = []
    for i in range(n):
        new = service.NewTicket(subject=f"Kargo sorunu {i}", body="Merhaba", requester_id=customer["id"],
                                team_id=team_id, assignee_id=assignee if i % 2 else None, notify_requester=False)
        ticket = (await service.open_ticket(new, actor=Actor.customer(customer), now=now())).ticket
        out.append(ticket)
    await Ticket.update({Ticket.due_at: now() + timedelta(hours=1)}).where(Ticket.id.is_in([t["id"] for t in out]))
    await tags.add("ticket", [t["id"] for t in out], ["kargo", f"etiket-{n}"], by=None, now=now())
    return out


async def _messages(ticket_id: int, n: int, *, staff_id: int, customer_id: int) -> None:
    rows = [Message(ticket=ticket_id, author_kind="staff" if i % 2 else "customer",
                    author_staff=staff_id if i % 2 else None, author_customer=None if i % 2 else customer_id,
                    author_name="Carol" if i % 2 else "Ayşe", body=f"Mesaj no {i}", public=i % 5 != 4,
                    created_at=now() + timedelta(minutes=i)) for i in range(n)]
    await Message.insert(*rows)
    ids = [m["id"] for m in await Message.select(Message.id).where(Message.ticket == ticket_id)]
    await Attachment.insert(*[
        Attachment(ticket=ticket_id, message=mid, filename=f"foto-{mid}.png", content_type="image/png", size=1234,
                   storage_key=f"key{ticket_id}x{mid}", sha256="0" * 64) for mid in ids[::3]])


async def test_staff_queue_queries_do_not_grow_with_rows(client, carol) -> None:
    await _tickets(3, email="ayse@example.com", assignee=carol.id)
    await staff_login(client, carol)
    await client.get("/staff/queue")  # warm whatever is cached per process
    few, text = await _queries(client, "/staff/queue")
    assert text.count('href="/staff/tickets/T-') >= 3
    await _tickets(40, email="mehmet@example.com", team="iade", assignee=carol.id)
    many, text = await _queries(client, "/staff/queue")
    assert text.count('href="/staff/tickets/T-') >= 25
    assert many == few, f"/staff/queue ran {few} queries for 3 rows and {many} for 25"
    # The session's agent, the agent's teams with the form choices, the page with its tags.
    assert few <= 3, f"/staff/queue ran {few} queries"
    for view in ("mine", "unassigned", "my_teams"):
        await _queries(client, f"/staff/queue?view={view}")


async def test_staff_ticket_page_queries_do_not_grow_with_messages(client, carol) -> None:
    few_ticket, many_ticket = (await _tickets(2, email="ayse@example.com", assignee=carol.id))
    customer = few_ticket["requester"]
    await _messages(few_ticket["id"], 4, staff_id=carol.id, customer_id=customer)
    await _messages(many_ticket["id"], 49, staff_id=carol.id, customer_id=customer)
    await create_order("SP-1", "ayse@example.com")
    await staff_login(client, carol)
    await client.get(f"/staff/tickets/T-{few_ticket['number']}")
    few, text = await _queries(client, f"/staff/tickets/T-{few_ticket['number']}")
    assert "Mesaj no 3" in text
    many, text = await _queries(client, f"/staff/tickets/T-{many_ticket['number']}")
    assert "Mesaj no 48" in text and "foto-" in text
    assert many == few, f"the ticket page ran {few} queries for 5 messages and {many} for 50"
    # The agent, the ticket, the choices, the thread, the events, the side panel (was 16).
    assert few <= 6, f"the ticket page ran {few} queries"


async def test_customer_ticket_list_and_page_queries_do_not_grow(client, alice, carol) -> None:
    mine = await _tickets(2, email=alice.email, team=None)
    await _messages(mine[1]["id"], 40, staff_id=carol.id, customer_id=alice.id)
    await login(client, alice)
    await client.get("/tickets")
    few, _text = await _queries(client, "/tickets")
    short, _text = await _queries(client, f"/tickets/T-{mine[0]['number']}")
    long, text = await _queries(client, f"/tickets/T-{mine[1]['number']}")
    assert "foto-" in text
    assert long == short, f"the customer ticket page ran {short} queries for 1 message and {long} for 41"
    await _tickets(30, email=alice.email, team=None)
    many, text = await _queries(client, "/tickets")
    assert text.count('href="/tickets/T-') >= 20
    assert many == few, f"/tickets ran {few} queries for 2 rows and {many} for a full page"


async def test_customer_order_list_queries_do_not_grow(client, alice) -> None:
    base = sample_order().placed_at
    for i in range(2):
        await create_order(f"SP-{i}", alice.email, placed_at=base - timedelta(hours=i))
    await login(client, alice)
    await client.get("/orders")
    few, _text = await _queries(client, "/orders")
    for i in range(2, 25):
        await create_order(f"SP-{i}", alice.email, placed_at=base - timedelta(hours=i))
    many, text = await _queries(client, "/orders")
    assert text.count('href="/orders/SP-') >= 20
    assert many == few, f"/orders ran {few} queries for 2 rows and {many} for a full page"
    one, _text = await _queries(client, "/orders/SP-3")
    assert one <= few + 2
