"""Forgotten password (/password/forgot, /password/reset/{token}) and password change
(/account/password): same answer whoever asks, single-use hashed tokens that expire in an
hour, and the end of every other session."""

import hashlib
import re
from datetime import timedelta

from portal.accounts.tables import AuthToken, Customer
from portal.clock import now
from tests.conftest import link_in, login, outbox_to

EN = {"Accept-Language": "en"}
NEW = "a fresh new password"


def in_turkish(message: str) -> str:
    """What the page says for an English message id, for a visitor reading Turkish (the default)."""
    from portal.i18n import gettext, use_locale

    with use_locale("tr"):
        return gettext(message)


def normalise(html: str, *emails: str) -> str:
    html = re.sub(r'name="_csrf_token" value="[^"]*"', 'name="_csrf_token" value=""', html)
    html = re.sub(r'"x-csrftoken": "[^"]*"', '"x-csrftoken": ""', html)
    for email in emails:
        html = html.replace(email, "EMAIL")
    return html


async def reset_link(client, email: str) -> str:
    response = await client.post_form("/password/forgot", {"email": email})
    assert response.status_code == 303
    mails = [m for m in await outbox_to(email) if m["template"] == "password-reset"]
    return link_in(mails[-1]["body_text"], "/password/reset/")


async def password_hash(customer_id: int) -> str:
    row = await Customer.select(Customer.password_hash).where(Customer.id == customer_id).first()
    return row["password_hash"]


async def test_forgot_page_has_a_labelled_field(client):
    response = await client.get("/password/forgot")
    assert response.status_code == 200
    assert '<label for="f-email">' in response.text and 'autocomplete="email"' in response.text


async def test_forgot_answers_the_same_for_known_and_unknown_addresses(client, other_client, alice):
    known = await client.post_form("/password/forgot", {"email": alice.email})
    unknown = await other_client.post_form("/password/forgot", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/password/forgot/sent"
    known_page = await client.get(known.headers["location"])
    unknown_page = await other_client.get(unknown.headers["location"])
    assert known_page.status_code == unknown_page.status_code == 200
    assert normalise(known_page.text, alice.email) == normalise(unknown_page.text, "nobody@example.com")
    assert [m["template"] for m in await outbox_to(alice.email)] == ["password-reset"]
    assert await outbox_to("nobody@example.com") == []


async def test_reset_link_sets_a_new_password(client, alice):
    link = await reset_link(client, alice.email)
    page = await client.get(link)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'autocomplete="new-password"' in page.text

    response = await client.post_form(link, {"password": NEW})
    assert response.status_code == 303 and response.headers["location"] == "/account"
    assert (await client.get("/account")).status_code == 200  # logged in by the reset
    assert [m["template"] for m in await outbox_to(alice.email)] == ["password-reset", "password-changed"]

    await client.post_form("/logout")
    old = await client.post_form("/login", {"email": alice.email, "password": alice.password})
    assert old.status_code == 422
    new = await client.post_form("/login", {"email": alice.email, "password": NEW})
    assert new.status_code == 303


async def test_reset_link_works_once(client, alice):
    link = await reset_link(client, alice.email)
    assert (await client.post_form(link, {"password": NEW})).status_code == 303
    again = await client.post_form(link, {"password": "yet another password"})
    assert again.status_code == 410
    assert 'href="/password/forgot"' in again.text
    assert (await client.get(link)).status_code == 410


async def test_reset_link_expires_after_an_hour(client, alice):
    link = await reset_link(client, alice.email)
    token = await AuthToken.select().where(AuthToken.customer == alice.id).first()
    assert token["expires_at"] - token["created_at"] == timedelta(hours=1)
    await AuthToken.update({AuthToken.expires_at: now() - timedelta(seconds=1)}).where(
        AuthToken.id == token["id"])
    before = await password_hash(alice.id)
    assert (await client.get(link)).status_code == 410
    assert (await client.post_form(link, {"password": NEW})).status_code == 410
    assert await password_hash(alice.id) == before


async def test_reset_token_is_stored_only_as_a_hash(client, alice):
    link = await reset_link(client, alice.email)
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 40
    rows = await AuthToken.select()
    assert len(rows) == 1
    assert token not in repr(rows)
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()


async def test_a_new_reset_request_replaces_the_old_link(client, alice):
    first = await reset_link(client, alice.email)
    second = await reset_link(client, alice.email)
    assert first != second
    assert (await client.get(first)).status_code == 410
    assert (await client.post_form(second, {"password": NEW})).status_code == 303


async def test_reset_ends_every_other_session(client, other_client, alice):
    await login(other_client, alice)
    assert (await other_client.get("/account")).status_code == 200
    link = await reset_link(client, alice.email)
    assert (await client.post_form(link, {"password": NEW})).status_code == 303
    response = await other_client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount"
    assert (await client.get("/account")).status_code == 200


async def test_reset_validation(client, alice):
    link = await reset_link(client, alice.email)
    response = await client.post_form(link, {"password": "short"}, headers=EN)
    assert response.status_code == 422
    assert re.search(r'<input id="f-password"[^>]*aria-invalid="true"', response.text)
    assert in_turkish("Please use at least 10 characters.") in response.text
    htmx = await client.post_form(link, {"password": ""}, htmx=True)
    assert htmx.status_code == 422
    assert "<html" not in htmx.text and htmx.text.lstrip().startswith('<form id="reset-form"')
    # A failed attempt does not use the link up.
    assert (await client.post_form(link, {"password": NEW}, htmx=True)).headers["hx-redirect"] == "/account"


async def test_forgot_validation_and_htmx(client):
    response = await client.post_form("/password/forgot", {"email": "nope"}, headers=EN)
    assert response.status_code == 422
    assert "Please enter a valid e-mail address." in response.text
    assert re.search(r'<input id="f-email"[^>]*aria-invalid="true"', response.text)
    htmx = await client.post_form("/password/forgot", {"email": ""}, htmx=True)
    assert htmx.status_code == 422 and "<html" not in htmx.text
    valid = await client.post_form("/password/forgot", {"email": "x@example.com"}, htmx=True)
    assert valid.headers["hx-redirect"] == "/password/forgot/sent"


async def test_forgot_mails_one_address_at_most_three_times_an_hour(client, alice):
    for _ in range(5):
        assert (await client.post_form("/password/forgot", {"email": alice.email})).status_code == 303
    assert len(await outbox_to(alice.email)) == 3


async def test_forgot_is_throttled_per_client_address(client):
    for i in range(10):
        assert (await client.post_form("/password/forgot", {"email": f"p{i}@example.com"})).status_code == 303
    response = await client.post_form("/password/forgot", {"email": "p11@example.com"})
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0


# --- password change on /account ------------------------------------------------------------------

async def test_change_password_asks_for_the_current_one(client, alice):
    await login(client, alice)
    before = await password_hash(alice.id)
    response = await client.post_form("/account/password", {"current_password": "not it",
                                                            "new_password": NEW}, headers=EN)
    assert response.status_code == 422
    assert re.search(r'<input id="f-current_password"[^>]*aria-invalid="true"', response.text)
    assert in_turkish("This is not your current password.") in response.text
    assert await password_hash(alice.id) == before


async def test_change_password_ends_other_sessions_but_keeps_this_one(client, other_client, alice):
    await login(client, alice)
    await login(other_client, alice)
    cookie = client.cookies.get("portal_session")
    response = await client.post_form("/account/password", {"current_password": alice.password,
                                                            "new_password": NEW})
    assert response.status_code == 303 and response.headers["location"] == "/account"
    assert client.cookies.get("portal_session") != cookie
    assert (await client.get("/account")).status_code == 200
    gone = await other_client.get("/account")
    assert gone.status_code == 303 and gone.headers["location"] == "/login?next=%2Faccount"
    assert [m["template"] for m in await outbox_to(alice.email)] == ["password-changed"]
    again = await other_client.post_form("/login", {"email": alice.email, "password": NEW})
    assert again.status_code == 303


async def test_change_password_validation_and_htmx(client, alice):
    await login(client, alice)
    response = await client.post_form("/account/password", {"current_password": "", "new_password": "short"},
                                      headers=EN)
    assert response.status_code == 422
    assert re.search(r'<input id="f-current_password"[^>]*aria-invalid="true"', response.text)
    assert re.search(r'<input id="f-new_password"[^>]*aria-invalid="true"', response.text)
    htmx = await client.post_form("/account/password", {"current_password": "not it", "new_password": NEW},
                                  htmx=True)
    assert htmx.status_code == 422
    assert "<html" not in htmx.text and htmx.text.lstrip().startswith('<form id="password-form"')
    valid = await client.post_form("/account/password",
                                   {"current_password": alice.password, "new_password": NEW}, htmx=True)
    assert valid.status_code == 200 and valid.headers["hx-redirect"] == "/account"


async def test_change_password_is_throttled(client, alice):
    await login(client, alice)
    for _ in range(5):
        response = await client.post_form("/account/password", {"current_password": "guess",
                                                                "new_password": NEW})
        assert response.status_code == 422
    response = await client.post_form("/account/password", {"current_password": alice.password,
                                                            "new_password": NEW})
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0


async def test_change_password_kills_an_outstanding_reset_link(client, alice):
    link = await reset_link(client, alice.email)
    await login(client, alice)
    await client.post_form("/account/password", {"current_password": alice.password, "new_password": NEW})
    assert (await client.get(link)).status_code == 410
