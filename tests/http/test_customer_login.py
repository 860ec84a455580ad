"""/login and /logout: one answer for unknown address and wrong password, a new session id
at log-in, local ``next`` only, throttling per account and per client address, argon2
parameter upgrades."""

import re

import pytest
from argon2 import PasswordHasher

from portal.accounts import service as accounts
from portal.accounts.tables import Customer
from portal.clock import now
from tests.conftest import PASSWORD, login

EN = {"Accept-Language": "en"}


def normalise(html: str, *emails: str) -> str:
    """A page with its per-visitor parts (CSRF token, the typed address) blanked out."""
    html = re.sub(r'name="_csrf_token" value="[^"]*"', 'name="_csrf_token" value=""', html)
    html = re.sub(r'"x-csrftoken": "[^"]*"', '"x-csrftoken": ""', html)
    for email in emails:
        html = html.replace(email, "EMAIL")
    return html


async def stored_hash(customer_id: int) -> str:
    row = await Customer.select(Customer.password_hash).where(Customer.id == customer_id).first()
    return row["password_hash"]


async def attempt(client, email: str, password: str, **kw):
    return await client.post_form("/login", {"email": email, "password": password}, **kw)


async def test_login_page_has_labelled_fields_and_a_way_out(client):
    response = await client.get("/login")
    assert response.status_code == 200
    assert '<label for="f-email">' in response.text and '<label for="f-password">' in response.text
    assert 'autocomplete="current-password"' in response.text
    assert 'href="/password/forgot"' in response.text and 'href="/signup"' in response.text


async def test_login_logs_in_and_logout_logs_out(client, alice):
    response = await attempt(client, alice.email, alice.password)
    assert response.status_code == 303 and response.headers["location"] == "/"
    page = await client.get("/account")
    assert page.status_code == 200 and alice.email in page.text
    row = await Customer.select(Customer.last_login_at).where(Customer.id == alice.id).first()
    assert row["last_login_at"] is not None

    response = await client.post_form("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/"
    response = await client.get("/account")
    assert response.status_code == 303


async def test_login_is_case_insensitive_on_the_address(client, alice):
    response = await attempt(client, "  ALICE@Example.com ", alice.password)
    assert response.status_code == 303


async def test_unknown_address_and_wrong_password_answer_the_same(client, other_client, alice):
    unknown = await attempt(client, "nobody@example.com", "whatever password")
    wrong = await attempt(other_client, alice.email, "not the password")
    assert unknown.status_code == wrong.status_code == 422
    assert normalise(unknown.text, "nobody@example.com") == normalise(wrong.text, alice.email)
    assert "portal_session" not in unknown.headers.get("set-cookie", "")
    assert "portal_session" not in wrong.headers.get("set-cookie", "")


async def test_a_customer_without_a_password_cannot_log_in(client):
    # Orders and forms create customer rows without a password: they are not accounts.
    await accounts.find_or_create_customer("guest@example.com", name="Guest", now=now())
    response = await attempt(client, "guest@example.com", "")
    assert response.status_code == 422
    response = await attempt(client, "guest@example.com", "any password at all")
    assert response.status_code == 422


async def test_session_id_changes_at_login(client, app, alice):
    # The forgotten-password form gives an anonymous visitor a session (it remembers the
    # address to show); logging in must not keep that id.
    await client.post_form("/password/forgot", {"email": "someone@example.com"})
    before = client.cookies.get("portal_session")
    assert before
    await login(client, alice)
    after = client.cookies.get("portal_session")
    assert after and after != before
    store = app.state["services"].session_store
    assert await store.get(f"s:{before}") is None
    assert (await client.get("/account")).status_code == 200


async def test_session_id_changes_when_another_person_logs_in(client, alice, bob):
    await login(client, alice)
    first = client.cookies.get("portal_session")
    await login(client, bob)
    assert client.cookies.get("portal_session") != first
    assert bob.email in (await client.get("/account")).text


async def test_a_planted_session_id_is_not_used(client, alice):
    client.cookies.set("portal_session", "A" * 43, domain="portal.test")
    await login(client, alice)
    assert client.cookies.get("portal_session", domain="portal.test") != "A" * 43


async def test_next_is_followed_for_local_paths(client, alice):
    anonymous = await client.get("/account")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Faccount"
    page = await client.get(anonymous.headers["location"])
    assert '<input type="hidden" name="next" value="/account">' in page.text
    response = await client.post_form("/login", {"email": alice.email, "password": alice.password,
                                                 "next": "/account?tab=password"})
    assert response.headers["location"] == "/account?tab=password"


@pytest.mark.parametrize("target", [
    "//evil.com", "https://evil.com", "/\\evil.com", "/\t/evil.com", "/\n/evil.com", "\\\\evil.com",
    "http:evil.com", "javascript:alert(1)", " //evil.com", "evil.com",
])
async def test_next_never_leaves_the_site(client, alice, target):
    page = await client.get("/login", params={"next": target})
    assert '<input type="hidden" name="next" value="/">' in page.text
    response = await client.post_form("/login", {"email": alice.email, "password": alice.password,
                                                 "next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_five_failures_lock_the_account_even_for_the_right_password(client, other_client, alice, bob):
    for _ in range(5):
        assert (await attempt(client, alice.email, "wrong password")).status_code == 422
    locked = await attempt(other_client, alice.email, alice.password)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert '<html lang="' in locked.text and "<h1" in locked.text
    assert "portal_session" not in locked.headers.get("set-cookie", "")
    # Another account is not affected by alice's lock.
    assert (await attempt(other_client, bob.email, bob.password)).status_code == 303


async def test_thirty_failures_from_one_address_lock_it(client, alice):
    # Spread over several accounts (four each, under the per-account limit of five).
    for i in range(30):
        response = await attempt(client, f"guess{i // 4}@example.com", "wrong password")
        assert response.status_code == 422, i
    locked = await attempt(client, alice.email, alice.password)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0


async def test_a_good_login_clears_the_account_counter(client, alice):
    for _ in range(4):
        await attempt(client, alice.email, "wrong password")
    assert (await attempt(client, alice.email, alice.password)).status_code == 303
    for _ in range(4):
        assert (await attempt(client, alice.email, "wrong password")).status_code == 422
    assert (await attempt(client, alice.email, alice.password)).status_code == 303


async def test_login_validation_per_field_in_english(client):
    response = await client.post_form("/login", {"email": "", "password": ""}, headers=EN)
    assert response.status_code == 422
    assert '<html lang="en">' in response.text
    assert re.search(r'<input id="f-email"[^>]*aria-invalid="true"', response.text)
    assert re.search(r'<input id="f-password"[^>]*aria-invalid="true"', response.text)
    assert "This field is required." in response.text


async def test_wrong_password_message_in_english(client, alice):
    response = await attempt(client, alice.email, "not the password", headers=EN)
    assert response.status_code == 422
    assert "The e-mail address or the password is not right." in response.text
    assert 'role="alert"' in response.text


async def test_login_in_turkish_by_default(client, alice):
    response = await attempt(client, alice.email, "not the password")
    assert response.status_code == 422
    assert '<html lang="tr">' in response.text


async def test_login_over_htmx(client, alice):
    invalid = await attempt(client, alice.email, "not the password", htmx=True)
    assert invalid.status_code == 422
    assert "<html" not in invalid.text
    assert invalid.text.lstrip().startswith('<div id="login-box">')
    valid = await client.post_form("/login", {"email": alice.email, "password": alice.password,
                                              "next": "/account"}, htmx=True)
    assert valid.status_code == 200
    assert valid.headers["hx-redirect"] == "/account"
    assert (await client.get("/account")).status_code == 200


async def test_logout_needs_the_csrf_token(client, alice):
    await login(client, alice)
    response = await client.post("/logout")
    assert response.status_code == 403
    assert (await client.get("/account")).status_code == 200


async def test_login_with_an_old_parameter_hash_upgrades_it(client, app, alice):
    services = app.state["services"]
    old_hash = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1).hash(PASSWORD)
    assert services.passwords.hasher.check_needs_rehash(old_hash)
    await Customer.update({Customer.password_hash: old_hash}).where(Customer.id == alice.id)

    await login(client, alice)
    stored = await stored_hash(alice.id)
    assert stored != old_hash
    assert not services.passwords.hasher.check_needs_rehash(stored)
    assert (await services.passwords.verify(stored, PASSWORD)) == (True, None)
    # And the upgraded hash still logs in.
    await client.post_form("/logout")
    await login(client, alice)


async def test_a_failed_login_does_not_upgrade_the_hash(client, alice):
    old_hash = PasswordHasher(time_cost=2, memory_cost=128, parallelism=1).hash(PASSWORD)
    await Customer.update({Customer.password_hash: old_hash}).where(Customer.id == alice.id)
    await attempt(client, alice.email, "not the password")
    stored = await stored_hash(alice.id)
    assert stored == old_hash
