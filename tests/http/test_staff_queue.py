"""/staff/queue: views, filters, due-time order, keyset pages and bulk changes with refusals."""

from __future__ import annotations

from datetime import timedelta

from portal.accounts import service as accounts
from portal.clock import now
from portal.tickets import changes, service
from portal.tickets.rules import Actor
from portal.tickets.tables import Ticket
from tests.conftest import staff_login


async def _open(subject: str, *, team: str | None = None, email="ayse@example.com", **kw) -> dict:
    customer = await accounts.find_or_create_customer(email, name="Ayşe", now=now())
    team_id = (await accounts.ensure_team(team))["id"] if team else None
    new = service.NewTicket(subject=subject, body="...", requester_id=customer["id"], team_id=team_id,
                            notify_requester=False, **kw)
    return (await service.open_ticket(new, actor=Actor.customer(customer), now=now())).ticket


def _refs(text: str) -> list[str]:
    import re

    return re.findall(r'<td class="ref"><a href="/staff/tickets/(T-\d+)">', text)


async def test_default_order_is_nearest_due_then_oldest(client, carol):
    for i in range(4):
        await _open(f"Konu {i}")
    t = now()
    await Ticket.update({Ticket.due_at: t + timedelta(hours=5)}).where(Ticket.number == 1003)
    await Ticket.update({Ticket.due_at: t + timedelta(hours=1)}).where(Ticket.number == 1004)
    await staff_login(client, carol)
    page = await client.get("/staff/queue")
    assert page.status_code == 200
    assert _refs(page.text) == ["T-1004", "T-1003", "T-1001", "T-1002"]
    newest = await client.get("/staff/queue?sort=newest")
    assert _refs(newest.text) == ["T-1004", "T-1003", "T-1002", "T-1001"]


async def test_keyset_pages_neither_repeat_nor_skip(client, carol):
    for i in range(30):
        await _open(f"Konu {i}")
    t = now()
    soon = t + timedelta(hours=1)
    await Ticket.update({Ticket.due_at: soon}).where(Ticket.number.is_in([1005, 1010, 1020]))
    await staff_login(client, carol)
    first = await client.get("/staff/queue")
    refs = _refs(first.text)
    assert len(refs) == 25 and refs[:3] == ["T-1005", "T-1010", "T-1020"]
    more = first.text.split('id="more-rows"')[1].split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    second = await client.get(more, headers={"HX-Request": "true"})
    assert "<html" not in second.text and "<tbody" not in second.text
    rest = _refs(second.text)
    assert len(rest) == 5 and not set(rest) & set(refs) and len(set(refs + rest)) == 30
    assert 'id="more-rows"' not in second.text
    # The same page without JavaScript is a whole page.
    assert "<html" in (await client.get(more)).text


async def test_views_and_filters(client, carol, erin):
    mine = await _open("İADE talebim", team="destek", priority="high")
    await _open("Fatura sorusu", team="satis", email="bob@example.com")
    pending = await _open("Kargo nerede")
    solved = await _open("Teşekkürler", channel="phone")
    lead = Actor("staff", "Erin", staff_id=erin.id, role="lead")
    await changes.update(mine["id"], {"assignee": carol.id, "tags": "iade"}, actor=lead, now=now())
    await changes.update(pending["id"], {"status": "pending"}, actor=lead, now=now())
    await changes.update(solved["id"], {"status": "solved"}, actor=lead, now=now())
    await staff_login(client, carol)

    async def refs(query: str) -> list[str]:
        response = await client.get(f"/staff/queue?{query}")
        assert response.status_code == 200, query
        return sorted(_refs(response.text))

    assert await refs("view=mine") == ["T-1001"]
    assert await refs("view=unassigned") == ["T-1002", "T-1003"]
    assert await refs("view=my_teams") == ["T-1001"]
    assert await refs("view=pending") == ["T-1003"]
    assert await refs("view=solved_today") == ["T-1004"]
    assert await refs("") == ["T-1001", "T-1002", "T-1003"]
    assert await refs("q=iade") == ["T-1001"]  # Turkish-aware: İADE
    assert await refs("q=FATURA") == ["T-1002"]
    assert await refs("q=T-1003") == ["T-1003"]
    assert await refs("q=bob@example.com") == ["T-1002"]
    assert await refs("priority=high") == ["T-1001"]
    assert await refs("tag=İADE") == ["T-1001"]
    assert await refs("view=solved_today&channel=phone") == ["T-1004"]
    assert await refs("assignee=none") == ["T-1002", "T-1003"]
    assert await refs("status=bogus&view=bogus&sort=bogus&cursor=%%%") == ["T-1001", "T-1002", "T-1003"]
    fragment = await client.get("/staff/queue?status=pending", headers={"HX-Request": "true"})
    assert 'id="queue"' in fragment.text and "<html" not in fragment.text


async def test_bulk_reports_every_ticket_it_could_not_change(client, carol):
    ours = await _open("Bizim", team="destek")
    theirs = await _open("Onların", team="satis")
    free = await _open("Ekipsiz")
    await staff_login(client, carol)
    data = {"ids": [str(ours["id"]), str(theirs["id"]), str(free["id"])], "action": "assign",
            "assignee": "me", "status": "open", "priority": "normal", "tag": "", "back": "view=all_open"}
    response = await client.post_form("/staff/queue/bulk", data, htmx=True)
    assert response.status_code == 200
    assert "report-refused" in response.text and "T-1002" in response.text.split("report-refused")[1][:400]
    rows = {r["number"]: r["assignee"] for r in await Ticket.select(Ticket.number, Ticket.assignee)}
    assert rows == {1001: carol.id, 1002: None, 1003: carol.id}
    # Without JavaScript: a redirect, and each refusal is said on the next page.
    plain = await client.post_form("/staff/queue/bulk", {**data, "action": "status", "status": "closed"})
    assert plain.status_code == 303 and plain.headers["location"].startswith("/staff/queue")
    page = await client.get(plain.headers["location"])
    assert page.text.count("notice-error") >= 3 and "T-1001" in page.text
    nothing = await client.post_form("/staff/queue/bulk", {"action": "assign", "assignee": "me"}, htmx=True)
    assert nothing.status_code == 422
