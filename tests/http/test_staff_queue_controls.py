"""The queue's filter selects and bulk bar are rendered once per process and reused
(``portal.staff.queue._Controls``): a changed team or agent shows on the very next page, the
chosen filters are each request's own, and no agent's data or token reaches another's page."""

from __future__ import annotations

import re

from portal.accounts import service as accounts
from portal.accounts.tables import StaffUser, Team
from portal.clock import now
from tests.conftest import staff_login


def _select(text: str, name: str, form: str) -> str:
    part = text.split(f'<form id="{form}"' if form == "bulk" else 'class="queue-filters"')[1]
    return part.split(f'<select name="{name}">')[1].split("</select>")[0]


async def test_a_changed_team_or_agent_shows_on_the_next_page(client, carol, erin) -> None:
    team = await accounts.ensure_team("satis")
    await staff_login(client, carol)
    first = (await client.get("/staff/queue")).text
    assert "Erin Şahin" in _select(first, "assignee", "filters") and "Erin Şahin" in _select(first, "assignee", "bulk")
    await Team.update({Team.name_tr: "Satış <b>ekibi</b>"}).where(Team.id == team["id"])
    await StaffUser.update({StaffUser.active: False}).where(StaffUser.id == erin.id)
    await accounts.create_staff(email="new@example.com", name="Yeni Ajan", role="agent", password_hash=None,
                                now=now())
    second = (await client.get("/staff/queue")).text
    assert "Satış &lt;b&gt;ekibi&lt;/b&gt;" in _select(second, "team", "filters")
    for form in ("filters", "bulk"):
        assignees = _select(second, "assignee", form)
        assert "Erin Şahin" not in assignees and "Yeni Ajan" in assignees


async def test_the_chosen_filters_and_the_token_are_each_pages_own(client, other_client, carol, erin) -> None:
    team = await accounts.ensure_team("destek")
    await staff_login(client, carol)
    await staff_login(other_client, erin)
    chosen = (await client.get(f"/staff/queue?team={team['id']}&assignee={erin.id}&status=pending")).text
    assert f'<option value="{team["id"]}" selected>' in _select(chosen, "team", "filters")
    assert f'<option value="{erin.id}" selected>' in _select(chosen, "assignee", "filters")
    assert '<option value="pending" selected>' in _select(chosen, "status", "filters")
    assert " selected" not in _select(chosen, "assignee", "bulk")
    plain = (await other_client.get("/staff/queue")).text
    for name in ("team", "assignee", "status"):
        assert " selected" not in _select(plain, name, "filters")
    again = (await client.get("/staff/queue")).text
    assert " selected" not in _select(again, "team", "filters")
    # The bulk form's CSRF token is the session's own, never one cached with the controls.
    tokens = [re.search(r'<form id="bulk".*?name="_csrf_token" value="([^"]+)"', page, re.S)
              for page in (chosen, plain)]
    assert all(tokens) and tokens[0].group(1) != tokens[1].group(1)  # type: ignore[union-attr]
