"""/staff/profile: own name, language, availability and password; never one's own role."""

from __future__ import annotations

from portal.accounts.tables import StaffUser
from tests.conftest import staff_login


async def _row(staff_id: int) -> dict:
    return await StaffUser.select().where(StaffUser.id == staff_id).first()


async def test_profile_page_for_any_staff_member(client, carol):
    assert (await client.get("/staff/profile")).status_code == 303
    await staff_login(client, carol)
    response = await client.get("/staff/profile")
    assert response.status_code == 200
    for field in ("name", "locale", "current_password", "new_password"):
        assert f'<label for="f-{field}"' in response.text, field
    assert 'name="available"' in response.text


async def test_update_name_and_language(client, carol):
    await staff_login(client, carol)
    response = await client.post_form("/staff/profile", {"name": "Carol K.", "locale": "en"})
    assert response.status_code == 303 and response.headers["location"] == "/staff/profile"
    row = await _row(carol.id)
    assert (row["name"], row["locale"]) == ("Carol K.", "en")
    page = await client.get("/staff/profile")
    assert '<html lang="en">' in page.text


async def test_language_change_with_htmx_reloads_the_page(client, carol):
    await staff_login(client, carol)
    response = await client.post_form("/staff/profile", {"name": "Carol", "locale": "en"}, htmx=True)
    assert response.status_code == 200 and response.headers["hx-redirect"] == "/staff/profile"
    response = await client.post_form("/staff/profile", {"name": "Carol Kaya", "locale": "en"}, htmx=True)
    assert response.status_code == 200 and "hx-redirect" not in response.headers
    assert "<html" not in response.text and 'id="profile-section"' in response.text


async def test_invalid_profile_is_re_rendered(client, carol):
    await staff_login(client, carol)
    response = await client.post_form("/staff/profile", {"name": "", "locale": "de"}, htmx=True)
    assert response.status_code == 422
    assert (
        'aria-describedby="f-name-error"' in response.text
        and 'aria-describedby="f-locale-error"' in response.text
    )
    assert (await _row(carol.id))["name"] == carol.name


async def test_nobody_changes_their_own_role_or_status_through_the_profile(client, carol):
    await staff_login(client, carol)
    response = await client.post_form(
        "/staff/profile",
        {
            "name": "Carol",
            "locale": "tr",
            "role": "admin",
            "active": "0",
            "email": "x@evil.example",
            "session_version": "99",
            "id": "1",
        },
    )
    assert response.status_code == 303
    row = await _row(carol.id)
    assert (row["role"], row["active"], row["email"], row["name"]) == ("agent", True, carol.email, "Carol")
    assert (await client.get("/staff/settings")).status_code == 403
    # Nor through the settings form aimed at oneself (agents get no settings at all).
    response = await client.post_form(f"/staff/settings/members/{carol.id}/role", {"role": "admin"})
    assert response.status_code == 403
    assert (await _row(carol.id))["role"] == "agent"


async def test_availability_toggle(client, carol):
    await staff_login(client, carol)
    response = await client.post_form("/staff/profile/availability", {"available": "0"})
    assert response.status_code == 303
    assert (await _row(carol.id))["available"] is False
    response = await client.post_form("/staff/profile/availability", {"available": "1"}, htmx=True)
    assert response.status_code == 200 and 'id="profile-section"' in response.text
    assert (await _row(carol.id))["available"] is True


async def test_password_change_needs_the_current_password(client, carol):
    await staff_login(client, carol)
    response = await client.post_form(
        "/staff/profile/password",
        {"current_password": "not it at all", "new_password": "another long one"},
        htmx=True,
    )
    assert response.status_code == 422
    assert 'aria-describedby="f-current_password-error"' in response.text
    response = await client.post_form(
        "/staff/profile/password", {"current_password": carol.password, "new_password": "short"}
    )
    assert response.status_code == 422
    assert 'aria-describedby="f-new_password-error"' in response.text
    assert (await _row(carol.id))["session_version"] == 0


async def test_password_change_ends_other_sessions_and_keeps_this_one(client, other_client, carol):
    await staff_login(client, carol)
    await staff_login(other_client, carol)
    response = await client.post_form(
        "/staff/profile/password",
        {"current_password": carol.password, "new_password": "a brand new passphrase"},
    )
    assert response.status_code == 303
    assert (await client.get("/staff")).status_code == 200
    assert (await other_client.get("/staff")).status_code == 303
    response = await other_client.post_form(
        "/staff/login", {"email": carol.email, "password": carol.password}
    )
    assert response.status_code == 422
    response = await other_client.post_form(
        "/staff/login", {"email": carol.email, "password": "a brand new passphrase"}
    )
    assert response.status_code == 303


async def test_password_guessing_through_the_profile_is_throttled(client, carol):
    await staff_login(client, carol)
    for _ in range(5):
        response = await client.post_form(
            "/staff/profile/password", {"current_password": "guess guess", "new_password": "another long one"}
        )
        assert response.status_code == 422
    response = await client.post_form(
        "/staff/profile/password", {"current_password": carol.password, "new_password": "another long one"}
    )
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
