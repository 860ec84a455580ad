"""/staff/settings: admins only, CSRF on every form, and the overview page."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from portal.accounts.service import create_api_token
from portal.accounts.tables import Team
from portal.clock import now
from tests.conftest import login, staff_login

SETTINGS_PAGES = [
    "/staff/settings",
    "/staff/settings/members",
    "/staff/settings/teams",
    "/staff/settings/api-tokens",
]


@pytest.mark.parametrize("path", SETTINGS_PAGES)
async def test_admin_opens_every_settings_page(client, dave, path):
    await create_api_token("web shop", now=now(), created_by=dave.id)
    await staff_login(client, dave)
    response = await client.get(path)
    assert response.status_code == 200
    assert 'aria-current="page"' in response.text
    assert '<th scope="col">' in response.text or path == "/staff/settings"


async def test_agents_get_a_403_page(client, carol):
    await _refused(client, carol)


async def test_leads_get_a_403_page(client, erin):
    await _refused(client, erin)


async def _refused(client, who) -> None:
    await staff_login(client, who)
    for path in SETTINGS_PAGES:
        response = await client.get(path)
        assert response.status_code == 403, path
        assert "<html" in response.text
    response = await client.post_form(
        "/staff/settings/teams",
        {"slug": "gizli", "name_tr": "G", "name_en": "G", "assignment": "round_robin"},
    )
    assert response.status_code == 403
    assert await Team.count().where(Team.slug == "gizli") == 0


async def test_anonymous_visitors_are_sent_to_the_staff_login(client):
    response = await client.get("/staff/settings")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/staff/login?next=")
    assert unquote(location.partition("next=")[2]) == "/staff/settings"


async def test_a_customer_is_sent_to_the_staff_login(client, alice):
    await login(client, alice)
    response = await client.get("/staff/settings")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")


async def test_a_settings_form_without_the_csrf_token_is_refused(client, dave):
    await staff_login(client, dave)
    body = {"slug": "csrf", "name_tr": "C", "name_en": "C", "assignment": "round_robin"}
    response = await client.post("/staff/settings/teams", data=body)
    assert response.status_code == 403
    response = await client.post("/staff/settings/teams", data={**body, "_csrf_token": "forged"})
    assert response.status_code == 403
    assert await Team.count().where(Team.slug == "csrf") == 0
    # The same form with the token goes through.
    response = await client.post_form("/staff/settings/teams", body)
    assert response.status_code == 303


async def test_overview_links_to_every_section_with_counts(client, dave, carol):
    await staff_login(client, dave)
    response = await client.get("/staff/settings")
    for path in SETTINGS_PAGES[1:]:
        assert f'href="{path}"' in response.text
    assert '<th scope="row">' in response.text


async def test_nav_shows_settings_to_admins_only(client, other_client, dave, carol):
    await staff_login(client, dave)
    await staff_login(other_client, carol)
    assert 'href="/staff/settings"' in (await client.get("/staff/profile")).text
    page = (await other_client.get("/staff/profile")).text
    assert 'href="/staff/settings"' not in page
    assert 'href="/staff/profile"' in page
