"""/staff/settings/routing (admins): rules list, create, edit, reorder, delete, validation in the
user's language (422), the "which rule would match?" tester, team assignment; agents get 403."""

from __future__ import annotations

from portal.accounts.tables import Team
from portal.i18n import _, use_locale
from portal.routing import service as routing
from portal.routing.tables import RoutingRule, TeamAssignment
from portal.tickets import service
from portal.tickets.rules import Actor
from tests.conftest import staff_login

BASE = "/staff/settings/routing"


def tr(message: str, **values: object) -> str:
    """The Turkish text of a message, as the page shows it to a Turkish reader (HTML-escaped)."""
    from markupsafe import escape

    with use_locale("tr"):
        return str(escape(_(message, **values)))


async def _team_id(slug: str = "destek") -> int:
    return (await Team.select(Team.id).where(Team.slug == slug).first())["id"]


async def _names() -> list[str]:
    return [r["name"] for r in await routing.list_rules()]


async def test_agents_and_leads_are_refused(client, carol, erin):
    await staff_login(client, carol)
    for path in (BASE, f"{BASE}/new", f"{BASE}/test"):
        assert (await client.get(path)).status_code == 403
    response = await client.post_form(BASE, {"name": "x", "set_priority": "high"})
    assert response.status_code == 403 and await RoutingRule.count() == 0


async def test_create_edit_reorder_delete(client, dave):
    await staff_login(client, dave)
    destek = await _team_id()
    page = await client.get(BASE)
    assert page.status_code == 200 and f'href="{BASE}"' in page.text and 'aria-current="page"' in page.text
    assert (await client.get(f"{BASE}/new")).status_code == 200
    response = await client.post_form(BASE, {
        "name": "İade", "active": "1", "words": "iade, return", "channels": ["form", "email"],
        "segments": ["champions"], "languages": ["tr"], "order_statuses": ["delivered"],
        "customer_tags": "VIP", "set_team": str(destek), "set_priority": "high", "add_tags": "iade, kargo",
        "set_assignee": ""})
    assert response.status_code == 303 and response.headers["location"] == BASE
    response = await client.post_form(BASE, {"name": "Fatura", "active": "1", "words": "fatura",
                                             "set_priority": "urgent"})
    assert response.status_code == 303
    assert await _names() == ["İade", "Fatura"]
    rule = (await routing.list_rules())[0]
    assert rule["conditions"]["words"] == ["iade", "return"]
    assert rule["conditions"]["channels"] == ["form", "email"] and rule["tags_list"] == ["iade", "kargo"]
    assert (rule["set_team"], rule["set_priority"], rule["active"]) == (destek, "high", True)
    listing = (await client.get(BASE)).text
    assert "İade" in listing and "Fatura" in listing and "“iade”" in listing

    edit = await client.get(f"{BASE}/{rule['id']}")
    assert edit.status_code == 200 and 'value="iade, return"' in edit.text and "checked" in edit.text
    response = await client.post_form(f"{BASE}/{rule['id']}", {"name": "İade (off)", "words": "iade",
                                                                "set_team": str(destek)})
    assert response.status_code == 303
    rule = await routing.get_rule(rule["id"])
    assert rule["name"] == "İade (off)" and rule["active"] is False and rule["conditions"]["channels"] == []

    second = (await routing.list_rules())[1]
    assert (await client.post_form(f"{BASE}/{second['id']}/move", {"direction": "up"})).status_code == 303
    assert await _names() == ["Fatura", "İade (off)"]
    assert (await client.post_form(f"{BASE}/{second['id']}/move", {"direction": "down"})).status_code == 303
    assert await _names() == ["İade (off)", "Fatura"]
    response = await client.post_form(f"{BASE}/{second['id']}/move", {"direction": "sideways"})
    assert response.status_code == 303 and await _names() == ["İade (off)", "Fatura"]

    assert (await client.post_form(f"{BASE}/{second['id']}/delete")).status_code == 303
    assert await _names() == ["İade (off)"]
    assert (await client.post_form(f"{BASE}/{second['id']}/delete")).status_code == 404
    assert (await client.get(f"{BASE}/{second['id']}")).status_code == 404
    assert (await client.post_form(f"{BASE}/999999", {"name": "x", "set_priority": "high"})).status_code == 404


async def test_invalid_rules_are_422_in_the_users_language(client, dave):
    await staff_login(client, dave)
    response = await client.post_form(BASE, {"name": "", "channels": ["pigeon"], "set_priority": "asap",
                                             "set_team": "99999", "words": "a"})
    assert response.status_code == 422
    assert "Bu alan zorunludur." in response.text  # dave reads Turkish
    assert "Lütfen seçeneklerden birini seçin." in response.text
    assert tr("Each word needs at least two letters.") in response.text
    assert 'aria-invalid="true"' in response.text and 'value="a"' in response.text  # what was typed is kept
    response = await client.post_form(BASE, {"name": "Nothing to do", "words": "iade"})
    assert response.status_code == 422
    assert tr("A rule must do something: choose a team, a priority, tags or an assignee.") in response.text
    response = await client.post_form(BASE, {"name": "Unknown form", "form_slugs": "nope",
                                             "set_priority": "high"})
    assert response.status_code == 422 and "nope" in response.text
    response = await client.post_form(BASE, {"name": "x" * 121, "set_priority": "high"})
    assert response.status_code == 422
    assert await RoutingRule.count() == 0


async def test_the_tester_names_the_matching_rule(client, dave, alice):
    await staff_login(client, dave)
    destek = await _team_id()
    await client.post_form(BASE, {"name": "Fatura", "active": "1", "words": "fatura, invoice",
                                  "set_team": str(destek), "set_priority": "high"})
    await client.post_form(BASE, {"name": "English", "active": "1", "languages": ["en"], "set_priority": "low"})
    response = await client.get(f"{BASE}/test", params={"channel": "portal", "language": "tr",
                                                        "subject": "FATURAMI bulamıyorum"})
    assert response.status_code == 200 and "Fatura" in response.text and 'id="routing-test-result"' in response.text
    response = await client.get(f"{BASE}/test", params={"channel": "email", "language": "en", "subject": "Hello"})
    assert response.status_code == 200 and "English" in response.text
    response = await client.get(f"{BASE}/test", params={"channel": "email", "language": "tr", "subject": "Selam"})
    assert tr("No rule would match: the ticket would keep the team it was given.") in response.text
    # An existing ticket, by its reference.
    opened = await service.open_ticket(service.NewTicket(subject="Invoice please", body="...", requester_id=alice.id,
                                                         language="tr"), actor=Actor.system(), now=_now())
    ref = f"T-{opened.ticket['number']}"
    response = await client.get(f"{BASE}/test", params={"ref": ref})
    assert response.status_code == 200 and "Fatura" in response.text
    for bad in ({"ref": "T-424242"}, {"ref": "T-99999999999999"}, {"channel": "pigeon", "language": "tr"}):
        response = await client.get(f"{BASE}/test", params=bad)
        assert response.status_code == 422, bad
        assert 'id="routing-test-result"' not in response.text


async def test_team_assignment_is_switched_on_per_team(client, dave, carol):
    await staff_login(client, dave)
    destek = await _team_id()
    page = await client.get(BASE)
    assert f'action="{BASE}/teams/{destek}"' in page.text and "Carol Kaya" in page.text
    response = await client.post_form(f"{BASE}/teams/{destek}", {"auto_assign": "1", "assignment": "least_open"})
    assert response.status_code == 303
    row = await TeamAssignment.select().where(TeamAssignment.team == destek).first()
    assert row["auto_assign"] is True
    assert (await Team.select(Team.assignment).where(Team.id == destek).first())["assignment"] == "least_open"
    assert (await client.post_form(f"{BASE}/teams/{destek}", {"assignment": "random"})).status_code == 303
    assert (await Team.select(Team.assignment).where(Team.id == destek).first())["assignment"] == "least_open"
    assert (await client.post_form(f"{BASE}/teams/999999", {"assignment": "round_robin"})).status_code == 404
    await client.post_form(f"{BASE}/teams/{destek}", {"assignment": "round_robin"})
    row = await TeamAssignment.select().where(TeamAssignment.team == destek).first()
    assert row["auto_assign"] is False


async def test_admins_mark_agents_unavailable(client, dave, carol):
    from portal.accounts.tables import StaffUser

    await staff_login(client, dave)
    response = await client.post_form(f"{BASE}/staff/{carol.id}/available", {"available": "0"})
    assert response.status_code == 303
    assert (await StaffUser.select(StaffUser.available).where(StaffUser.id == carol.id).first())["available"] is False
    assert "Carol Kaya" in (await client.get(BASE)).text
    await client.post_form(f"{BASE}/staff/{carol.id}/available", {"available": "1"})
    assert (await StaffUser.select(StaffUser.available).where(StaffUser.id == carol.id).first())["available"] is True
    assert (await client.post_form(f"{BASE}/staff/999999/available", {"available": "1"})).status_code == 404


def _now():
    from portal.clock import now

    return now()


async def test_odd_team_and_assignee_ids_are_422_not_500(client, dave):
    await staff_login(client, dave)
    for field in ("set_team", "set_assignee"):
        for value in ("²", "99999999999", "--3"):
            response = await client.post_form(BASE, {"name": "Tek", "words": "iade", field: value})
            assert response.status_code == 422, (field, value)
            assert "Lütfen seçeneklerden birini seçin." in response.text
    assert await RoutingRule.count() == 0
