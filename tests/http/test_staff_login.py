"""/staff/login and /staff/logout: one answer for every failure, throttling, session rotation,
`next` limited to staff pages, and customer and staff sessions kept apart."""

from __future__ import annotations

import re

import pytest

from portal.accounts import staff as staff_admin
from tests.conftest import login, staff_login


def _normalised(text: str, *values: str) -> str:
    for value in values:
        text = text.replace(value, "VALUE")
    return re.sub(r'name="_csrf_token" value="[^"]*"', "", text)


async def test_login_page_renders(client):
    response = await client.get("/staff/login")
    assert response.status_code == 200
    assert 'name="email"' in response.text and 'name="password"' in response.text
    assert 'name="_csrf_token"' in response.text


async def test_unknown_address_and_wrong_password_get_the_same_answer(client, carol):
    unknown = await client.post_form(
        "/staff/login", {"email": "nobody@example.com", "password": "whatever12"}
    )
    wrong = await client.post_form("/staff/login", {"email": carol.email, "password": "whatever12"})
    assert unknown.status_code == wrong.status_code == 422
    assert _normalised(unknown.text, "nobody@example.com") == _normalised(wrong.text, carol.email)
    assert "portal_session" not in unknown.cookies and "portal_session" not in wrong.cookies


async def test_deactivated_staff_get_the_same_answer_as_strangers(client, carol, dave):
    await staff_admin.set_active(dave.id, carol.id, False)
    response = await client.post_form("/staff/login", {"email": carol.email, "password": carol.password})
    assert response.status_code == 422
    assert (await client.get("/staff")).status_code == 303


async def test_htmx_failure_returns_only_the_form(client, carol):
    response = await client.post_form(
        "/staff/login", {"email": carol.email, "password": "nope-nope-nope"}, htmx=True
    )
    assert response.status_code == 422
    assert "<html" not in response.text and 'id="login-form"' in response.text


async def test_missing_fields_are_marked(client):
    response = await client.post_form("/staff/login", {"email": "", "password": ""})
    assert response.status_code == 422
    assert response.text.count('aria-invalid="true"') == 2


async def test_too_many_failures_are_throttled_with_retry_after(client, carol):
    for _ in range(5):
        response = await client.post_form(
            "/staff/login", {"email": carol.email, "password": "wrong-password"}
        )
        assert response.status_code == 422
    response = await client.post_form("/staff/login", {"email": carol.email, "password": carol.password})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert (await client.get("/staff")).status_code == 303


async def test_login_rotates_the_session_id_and_logout_ends_it(client, other_client, alice, carol):
    await login(client, alice)
    customer_sid = client.cookies["portal_session"]
    await staff_login(client, carol)
    staff_sid = client.cookies["portal_session"]
    assert staff_sid != customer_sid
    assert (await client.get("/staff")).status_code == 200
    # The id from before the log-in (say, one an attacker planted) is worth nothing now.
    other_client.cookies.set("portal_session", customer_sid)
    assert (await other_client.get("/staff")).status_code == 303
    assert (await other_client.get("/account")).status_code == 303

    response = await client.post_form("/staff/logout")
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"
    assert (await client.get("/staff")).status_code == 303


async def test_logout_needs_the_csrf_token(client, carol):
    await staff_login(client, carol)
    response = await client.post("/staff/logout")
    assert response.status_code == 403
    assert (await client.get("/staff")).status_code == 200


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("/staff/profile", "/staff/profile"),
        ("/staff?x=1", "/staff?x=1"),
        ("/account", "/staff"),
        ("/staffevil", "/staff"),
        ("//evil.example/staff", "/staff"),
        ("https://evil.example/staff", "/staff"),
        ("/\\evil.example", "/staff"),
    ],
)
async def test_next_only_goes_to_staff_pages(client, carol, next_value, expected):
    response = await client.post_form(
        "/staff/login", {"email": carol.email, "password": carol.password, "next": next_value}
    )
    assert response.status_code == 303
    assert response.headers["location"] == expected


async def test_login_page_keeps_only_a_staff_next(client):
    response = await client.get("/staff/login", params={"next": "https://evil.example/"})
    assert 'name="next" value="/staff"' in response.text
    response = await client.get("/staff/login", params={"next": "/staff/profile"})
    assert 'name="next" value="/staff/profile"' in response.text


async def test_logged_in_staff_skip_the_login_page(client, carol):
    await staff_login(client, carol)
    response = await client.get("/staff/login", params={"next": "/staff/profile"})
    assert response.status_code == 303 and response.headers["location"] == "/staff/profile"


async def test_customer_session_does_not_open_staff_pages(client, alice):
    await login(client, alice)
    response = await client.get("/staff")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")


async def test_staff_session_does_not_open_customer_pages(client, carol):
    await staff_login(client, carol)
    response = await client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_customer_credentials_do_not_log_in_as_staff(client, alice):
    response = await client.post_form("/staff/login", {"email": alice.email, "password": alice.password})
    assert response.status_code == 422


async def test_htmx_login_navigates_instead_of_swapping_the_next_page_in(client, carol):
    response = await client.post_form(
        "/staff/login",
        {"email": carol.email, "password": carol.password, "next": "/staff/profile"},
        htmx=True,
    )
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/staff/profile"
    assert (await client.get("/staff/profile")).status_code == 200
