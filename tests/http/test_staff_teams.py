"""/staff/settings/teams: create and rename teams, add and remove members, mark team leads."""

from __future__ import annotations

from portal.accounts.tables import Team, TeamMember
from tests.conftest import staff_login

NEW_TEAM = {"slug": "satis", "name_tr": "Satış", "name_en": "Sales", "assignment": "least_open"}


async def _team(slug: str) -> dict | None:
    return await Team.select().where(Team.slug == slug).first()


async def _membership(team_id: int, staff_id: int) -> dict | None:
    return (
        await TeamMember.select().where((TeamMember.team == team_id) & (TeamMember.staff == staff_id)).first()
    )


async def test_teams_are_listed(client, dave, carol):
    await staff_login(client, dave)
    response = await client.get("/staff/settings/teams")
    assert response.status_code == 200
    destek = await _team("destek")
    assert f'href="/staff/settings/teams/{destek["id"]}"' in response.text
    assert '<td lang="tr">' in response.text and '<td lang="en">' in response.text


async def test_create_a_team_without_js_and_with_htmx(client, dave):
    await staff_login(client, dave)
    response = await client.post_form("/staff/settings/teams", NEW_TEAM)
    assert response.status_code == 303 and response.headers["location"] == "/staff/settings/teams"
    team = await _team("satis")
    assert (team["name_tr"], team["name_en"], team["assignment"]) == ("Satış", "Sales", "least_open")

    response = await client.post_form(
        "/staff/settings/teams",
        {**NEW_TEAM, "slug": "lojistik", "name_tr": "Lojistik", "name_en": "Logistics"},
        htmx=True,
    )
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="teams-section"' in response.text
    assert "lojistik" in response.text and "notice-success" in response.text


async def test_invalid_and_duplicate_teams_are_refused(client, dave):
    await staff_login(client, dave)
    response = await client.post_form(
        "/staff/settings/teams",
        {"slug": "Satış Ekibi", "name_tr": "", "name_en": "", "assignment": "random"},
        htmx=True,
    )
    assert response.status_code == 422
    for field in ("slug", "name_tr", "name_en", "assignment"):
        assert f'aria-describedby="f-{field}-error"' in response.text, field
    response = await client.post_form("/staff/settings/teams", {**NEW_TEAM, "slug": "destek"})
    assert response.status_code == 422 and 'aria-describedby="f-slug-error"' in response.text
    assert await Team.count() == 1


async def test_rename_keeps_the_slug(client, dave):
    await staff_login(client, dave)
    team = await _team("destek")
    response = await client.post_form(
        f"/staff/settings/teams/{team['id']}",
        {
            "slug": "hacked",
            "name_tr": "Müşteri Destek",
            "name_en": "Customer support",
            "assignment": "least_open",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/settings/teams/{team['id']}"
    row = await Team.select().where(Team.id == team["id"]).first()
    assert (row["slug"], row["name_tr"], row["name_en"], row["assignment"]) == (
        "destek",
        "Müşteri Destek",
        "Customer support",
        "least_open",
    )

    response = await client.post_form(
        f"/staff/settings/teams/{team['id']}",
        {"name_tr": "", "name_en": "x", "assignment": "least_open"},
        htmx=True,
    )
    assert response.status_code == 422 and 'aria-describedby="f-name_tr-error"' in response.text
    assert (await Team.select().where(Team.id == team["id"]).first())["name_tr"] == "Müşteri Destek"


async def test_team_page_and_unknown_team(client, dave, carol):
    await staff_login(client, dave)
    team = await _team("destek")
    response = await client.get(f"/staff/settings/teams/{team['id']}")
    assert response.status_code == 200
    assert f'id="team-member-{carol.id}"' in response.text
    assert (await client.get("/staff/settings/teams/999999")).status_code == 404
    response = await client.post_form(
        "/staff/settings/teams/999999", {"name_tr": "a", "name_en": "b", "assignment": "round_robin"}
    )
    assert response.status_code == 404


async def test_add_member_mark_lead_and_remove(client, dave, carol):
    await staff_login(client, dave)
    await client.post_form("/staff/settings/teams", NEW_TEAM)
    team = await _team("satis")
    base = f"/staff/settings/teams/{team['id']}"

    page = (await client.get(base)).text
    assert f'<option value="{carol.id}">' in page  # candidates: active staff not yet in the team

    response = await client.post_form(f"{base}/members", {"staff_id": str(carol.id)})
    assert response.status_code == 303 and response.headers["location"] == base
    assert (await _membership(team["id"], carol.id))["is_lead"] is False

    response = await client.post_form(f"{base}/members", {"staff_id": str(carol.id)}, htmx=True)
    assert response.status_code == 422
    assert (
        await TeamMember.count().where((TeamMember.team == team["id"]) & (TeamMember.staff == carol.id)) == 1
    )

    response = await client.post_form(f"{base}/members/{carol.id}/lead", {"lead": "1"}, htmx=True)
    assert response.status_code == 200 and 'id="team-section"' in response.text
    assert (await _membership(team["id"], carol.id))["is_lead"] is True
    response = await client.post_form(f"{base}/members/{carol.id}/lead", {"lead": "0"})
    assert response.status_code == 303
    assert (await _membership(team["id"], carol.id))["is_lead"] is False

    response = await client.post_form(f"{base}/members/{carol.id}/remove")
    assert response.status_code == 303
    assert await _membership(team["id"], carol.id) is None
    # Carol stays in her other team.
    assert await _membership((await _team("destek"))["id"], carol.id) is not None


async def test_add_member_as_lead_and_bad_values(client, dave, carol):
    await staff_login(client, dave)
    await client.post_form("/staff/settings/teams", NEW_TEAM)
    team = await _team("satis")
    base = f"/staff/settings/teams/{team['id']}"
    response = await client.post_form(f"{base}/members", {"staff_id": str(carol.id), "lead": "1"}, htmx=True)
    assert response.status_code == 200
    assert (await _membership(team["id"], carol.id))["is_lead"] is True

    for bad in ("", "abc", "999999"):
        response = await client.post_form(f"{base}/members", {"staff_id": bad})
        assert response.status_code == 422, bad
    assert (await client.post_form(f"{base}/members/999999/remove")).status_code == 404
    assert (await client.post_form(f"{base}/members/999999/lead", {"lead": "1"})).status_code == 404
    response = await client.post_form("/staff/settings/teams/999999/members", {"staff_id": str(carol.id)})
    assert response.status_code == 404
