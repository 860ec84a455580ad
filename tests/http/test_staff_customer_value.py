"""The customer's RFM segment and scores on the staff customer page and the ticket side panel;
the routing and assignment events in the ticket history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from portal.accounts.tables import Team
from portal.clock import now
from portal.i18n import _, use_locale
from portal.routing import service as routing
from portal.tickets import service
from portal.tickets.rules import Actor
from tests.conftest import staff_login
from tests.order_fixtures import create_order


async def test_segment_on_customer_and_ticket_pages(client, carol, alice, bob):
    for i in range(6):
        await create_order(f"SP-{i}", alice.email, total=Decimal("4000"), status="delivered",
                           placed_at=datetime.now(UTC) - timedelta(days=2))
    destek = (await Team.select(Team.id).where(Team.slug == "destek").first())["id"]
    await routing.set_team_assignment(destek, auto_assign=True, method="round_robin", now=now())
    await routing.create_rule(routing.RuleData(name="VIP hızlı", conditions={"segments": ["champions"]},
                                               set_team=destek, set_priority="high"), now=now())
    opened = await service.open_ticket(service.NewTicket(subject="Kargo", body="Nerede?", requester_id=alice.id),
                                       actor=Actor.system(), now=now())
    assert opened.ticket["assignee"] == carol.id and opened.ticket["priority"] == "high"
    await staff_login(client, carol)
    page = await client.get(f"/staff/customers/{alice.id}")
    with use_locale("tr"):
        scores = _("R %(r)s · F %(f)s · M %(m)s", r=5, f=4, m=5)
    assert page.status_code == 200 and "segment-champions" in page.text and scores in page.text
    ticket_page = await client.get(f"/staff/tickets/T-{opened.ticket['number']}")
    assert ticket_page.status_code == 200
    assert "segment-champions" in ticket_page.text and "VIP hızlı" in ticket_page.text
    assert "Carol Kaya" in ticket_page.text
    other = await client.get(f"/staff/customers/{bob.id}")
    assert other.status_code == 200 and "segment-" not in other.text
