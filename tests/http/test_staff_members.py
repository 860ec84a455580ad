"""/staff/settings/members: list, add, change role, deactivate; no admin locks themselves out."""

from __future__ import annotations

from portal.accounts.tables import StaffUser, Team, TeamMember
from tests.conftest import staff_login

NEW = {
    "name": "Zeynep Arslan",
    "email": "zeynep@example.com",
    "role": "agent",
    "locale": "en",
    "team": "",
    "password": "a long initial password",
}


async def _row(email: str) -> dict | None:
    return await StaffUser.select().where(StaffUser.email_key == email.lower()).first()


async def test_members_are_listed_with_their_details(client, dave, carol):
    await staff_login(client, dave)
    response = await client.get("/staff/settings/members")
    assert response.status_code == 200
    page = response.text
    assert carol.email in page and carol.name in page and dave.email in page
    assert page.count('<th scope="col">') >= 7
    assert f'id="member-{carol.id}"' in page
    # Others get role and deactivate controls; the admin's own row has none.
    assert f'action="/staff/settings/members/{carol.id}/role"' in page
    assert f'action="/staff/settings/members/{carol.id}/active"' in page
    assert f'action="/staff/settings/members/{dave.id}/role"' not in page
    assert f'action="/staff/settings/members/{dave.id}/active"' not in page
    assert f'<label for="role-{carol.id}"' in page


async def test_htmx_get_returns_the_section_only(client, dave):
    await staff_login(client, dave)
    response = await client.get("/staff/settings/members", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="members-section"' in response.text


async def test_add_member_without_js_hashes_the_password_and_they_can_log_in(client, other_client, dave):
    team = await Team.select().where(Team.slug == "destek").first()
    await staff_login(client, dave)
    response = await client.post_form("/staff/settings/members", {**NEW, "team": str(team["id"])})
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/settings/members"
    row = await _row(NEW["email"])
    assert row["name"] == NEW["name"] and row["role"] == "agent" and row["locale"] == "en"
    assert row["password_hash"].startswith("$argon2") and NEW["password"] not in row["password_hash"]
    assert (
        await TeamMember.count().where((TeamMember.staff == row["id"]) & (TeamMember.team == team["id"])) == 1
    )
    # The flash shows on the page the redirect leads to.
    assert "notice-success" in (await client.get("/staff/settings/members")).text

    response = await other_client.post_form(
        "/staff/login", {"email": NEW["email"], "password": NEW["password"]}
    )
    assert response.status_code == 303
    assert (await other_client.get("/staff")).status_code == 200


async def test_add_member_with_htmx_returns_the_refreshed_section(client, dave):
    await staff_login(client, dave)
    response = await client.post_form("/staff/settings/members", NEW, htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert NEW["email"] in response.text and "notice-success" in response.text
    assert await _row(NEW["email"]) is not None


async def test_invalid_member_form_is_re_rendered_with_422(client, dave):
    await staff_login(client, dave)
    bad = {
        "name": "",
        "email": "not-an-address",
        "role": "superuser",
        "locale": "de",
        "team": "x",
        "password": "short",
    }
    response = await client.post_form("/staff/settings/members", bad, htmx=True)
    assert response.status_code == 422
    for field in ("name", "email", "role", "locale", "team", "password"):
        assert f'id="f-{field}"' in response.text
        assert f'aria-describedby="f-{field}-error"' in response.text, field
    assert await StaffUser.count() == 1
    # Without htmx: the whole page, same status.
    response = await client.post_form("/staff/settings/members", bad)
    assert response.status_code == 422 and "<html" in response.text


async def test_an_address_already_in_use_is_refused(client, dave, carol):
    await staff_login(client, dave)
    response = await client.post_form(
        "/staff/settings/members", {**NEW, "email": carol.email.upper(), "role": "admin"}
    )
    assert response.status_code == 422
    assert 'aria-describedby="f-email-error"' in response.text
    row = await _row(carol.email)
    assert row["role"] == "agent" and row["name"] == carol.name


async def test_unknown_team_is_refused(client, dave):
    await staff_login(client, dave)
    response = await client.post_form("/staff/settings/members", {**NEW, "team": "999999"})
    assert response.status_code == 422
    assert await _row(NEW["email"]) is None


async def test_change_someone_elses_role(client, other_client, dave, carol):
    await staff_login(client, dave)
    await staff_login(other_client, carol)
    assert (await other_client.get("/staff/settings")).status_code == 403
    response = await client.post_form(f"/staff/settings/members/{carol.id}/role", {"role": "admin"})
    assert response.status_code == 303
    assert (await _row(carol.email))["role"] == "admin"
    # Takes effect on Carol's next request, without logging in again.
    assert (await other_client.get("/staff/settings")).status_code == 200
    response = await client.post_form(f"/staff/settings/members/{carol.id}/role", {"role": "lead"}, htmx=True)
    assert response.status_code == 200 and 'id="members-section"' in response.text
    assert (await _row(carol.email))["role"] == "lead"


async def test_bad_role_and_unknown_member(client, dave, carol):
    await staff_login(client, dave)
    response = await client.post_form(f"/staff/settings/members/{carol.id}/role", {"role": "owner"})
    assert response.status_code == 422
    assert (await _row(carol.email))["role"] == "agent"
    response = await client.post_form("/staff/settings/members/999999/role", {"role": "agent"})
    assert response.status_code == 404
    response = await client.post_form("/staff/settings/members/999999/active", {"active": "0"})
    assert response.status_code == 404


async def test_an_admin_cannot_demote_or_deactivate_themselves(client, dave):
    await staff_login(client, dave)
    response = await client.post_form(f"/staff/settings/members/{dave.id}/role", {"role": "agent"}, htmx=True)
    assert response.status_code == 422
    assert "notice-error" in response.text
    response = await client.post_form(f"/staff/settings/members/{dave.id}/active", {"active": "0"})
    assert response.status_code == 422
    row = await _row(dave.email)
    assert row["role"] == "admin" and row["active"] is True
    assert (await client.get("/staff/settings")).status_code == 200


async def test_deactivation_ends_their_sessions_at_once(client, other_client, dave, carol):
    await staff_login(client, dave)
    await staff_login(other_client, carol)
    assert (await other_client.get("/staff")).status_code == 200
    response = await client.post_form(f"/staff/settings/members/{carol.id}/active", {"active": "0"})
    assert response.status_code == 303
    row = await _row(carol.email)
    assert row["active"] is False
    response = await other_client.get("/staff")
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")
    response = await other_client.post_form(
        "/staff/login", {"email": carol.email, "password": carol.password}
    )
    assert response.status_code == 422

    # Reactivated, Carol logs in again (her old session stays ended).
    response = await client.post_form(
        f"/staff/settings/members/{carol.id}/active", {"active": "1"}, htmx=True
    )
    assert response.status_code == 200
    assert (await _row(carol.email))["active"] is True
    response = await other_client.post_form(
        "/staff/login", {"email": carol.email, "password": carol.password}
    )
    assert response.status_code == 303
