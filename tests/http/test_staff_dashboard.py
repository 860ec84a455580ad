"""/staff: honest figures and links only to sections that exist for the viewer's role."""

from __future__ import annotations

import re

from tests.conftest import staff_login


def _count(page: str, name: str) -> str:
    match = re.search(rf'data-count="{name}">([^<]*)<', page)
    assert match, name
    return match.group(1)


async def test_dashboard_shows_counts_that_exist(client, carol, dave, alice, bob):
    await staff_login(client, carol)
    response = await client.get("/staff")
    assert response.status_code == 200
    page = response.text
    assert _count(page, "staff") == "2"
    assert _count(page, "teams") == "1"
    assert _count(page, "customers") == "2"
    for name in ("mail-queued", "mail-failed", "mail-sent"):
        assert _count(page, name).isdigit()


async def test_links_only_to_sections_that_exist_and_are_allowed(client, other_client, carol, dave):
    await staff_login(client, carol)
    await staff_login(other_client, dave)
    agent_page = (await client.get("/staff")).text
    admin_page = (await other_client.get("/staff")).text
    links = re.findall(r'<section aria-labelledby="sections-heading".*?</section>', agent_page, re.S)[0]
    assert 'href="/staff/profile"' in links
    assert 'href="/staff/settings"' not in links
    assert 'href="/staff/settings"' in admin_page
    # Every linked section answers 200 for the person it is shown to.
    for c, page in ((client, agent_page), (other_client, admin_page)):
        section = re.findall(r'<section aria-labelledby="sections-heading".*?</section>', page, re.S)[0]
        for path in re.findall(r'href="(/staff[^"]*)"', section):
            assert (await c.get(path)).status_code == 200, path


async def test_dashboard_needs_a_staff_log_in(client):
    response = await client.get("/staff")
    assert response.status_code == 303
