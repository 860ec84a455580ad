"""/signup and /verify/{token}: the mail, the link (GET shows, POST uses), single use, expiry,
an address that already has an account, and validation in the visitor's language."""

import re
from datetime import timedelta

from portal.accounts.tables import AuthToken, Customer
from portal.clock import now
from tests.conftest import link_in, login, outbox_to

EN = {"Accept-Language": "en"}
NEW_PASSWORD = "a brand new password"


def normalise(html: str, *emails: str) -> str:
    """A page with its per-visitor parts (CSRF token, the typed address) blanked out."""
    html = re.sub(r'name="_csrf_token" value="[^"]*"', 'name="_csrf_token" value=""', html)
    html = re.sub(r'"x-csrftoken": "[^"]*"', '"x-csrftoken": ""', html)
    for email in emails:
        html = html.replace(email, "EMAIL")
    return html


async def customer_row(email: str) -> dict | None:
    return await Customer.select().where(Customer.email == email).first()


async def sign_up(client, email: str, *, name: str = "Zeynep Arslan", password: str = NEW_PASSWORD, **kw):
    return await client.post_form("/signup", {"name": name, "email": email, "password": password}, **kw)


async def test_signup_page_has_labelled_fields(client):
    response = await client.get("/signup")
    assert response.status_code == 200
    for name in ("name", "email", "password"):
        assert f'<label for="f-{name}">' in response.text
        assert f'name="{name}"' in response.text
    assert 'autocomplete="new-password"' in response.text
    assert response.text.count("<h1") == 1


async def test_signup_mails_a_link_that_verifies_after_a_confirming_post(client):
    response = await sign_up(client, "zeynep@example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/signup/sent"
    page = await client.get("/signup/sent")
    assert page.status_code == 200 and "zeynep@example.com" in page.text

    mails = await outbox_to("zeynep@example.com")
    assert [m["template"] for m in mails] == ["verify-email"]
    link = link_in(mails[0]["body_text"], "/verify/")
    assert link in mails[0]["body_html"]
    row = await customer_row("zeynep@example.com")
    assert row["email_verified_at"] is None and row["name"] == "Zeynep Arslan"

    # A mail scanner fetching the link changes nothing: the page only offers a button.
    shown = await client.get(link)
    assert shown.status_code == 200
    assert f'action="{link}"' in shown.text and 'method="post"' in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert shown.headers["referrer-policy"] == "no-referrer"
    assert (await customer_row("zeynep@example.com"))["email_verified_at"] is None

    confirmed = await client.post_form(link)
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/login"
    assert (await customer_row("zeynep@example.com"))["email_verified_at"] is not None
    response = await client.post_form("/login", {"email": "zeynep@example.com", "password": NEW_PASSWORD})
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 200


async def test_verification_link_works_once(client):
    await sign_up(client, "once@example.com")
    link = link_in((await outbox_to("once@example.com"))[0]["body_text"], "/verify/")
    assert (await client.post_form(link)).status_code == 303
    again = await client.post_form(link)
    assert again.status_code == 410
    assert "<h1>" in again.text and 'href="/login"' in again.text
    assert (await client.get(link)).status_code == 410


async def test_expired_verification_link_fails(client):
    await sign_up(client, "late@example.com")
    link = link_in((await outbox_to("late@example.com"))[0]["body_text"], "/verify/")
    row = await customer_row("late@example.com")
    await AuthToken.update({AuthToken.expires_at: now() - timedelta(seconds=1)}).where(
        AuthToken.customer == row["id"])
    assert (await client.get(link)).status_code == 410
    assert (await client.post_form(link)).status_code == 410
    assert (await customer_row("late@example.com"))["email_verified_at"] is None


async def test_unknown_verification_token_is_410(client):
    assert (await client.get("/verify/not-a-real-token")).status_code == 410
    assert (await client.post_form("/verify/not-a-real-token")).status_code == 410
    assert (await client.get("/verify/" + "x" * 500)).status_code == 410


async def test_signup_for_an_existing_account_answers_the_same_and_changes_nothing(client, other_client,
                                                                                   alice):
    before = await customer_row(alice.email)
    fresh = await sign_up(other_client, "nobody-yet@example.com")
    taken = await sign_up(client, alice.email, name="Mallory", password="mallory's password")
    assert (taken.status_code, taken.headers["location"]) == (fresh.status_code, fresh.headers["location"])
    fresh_page = await other_client.get(fresh.headers["location"])
    taken_page = await client.get(taken.headers["location"])
    assert normalise(taken_page.text, alice.email) == normalise(fresh_page.text, "nobody-yet@example.com")

    mails = await outbox_to(alice.email)
    assert [m["template"] for m in mails] == ["account-exists"]
    assert "/verify/" not in mails[0]["body_text"]
    after = await customer_row(alice.email)
    assert after == before  # name, password, everything unchanged
    await login(client, alice)
    wrong = await other_client.post_form("/login", {"email": alice.email, "password": "mallory's password"})
    assert wrong.status_code == 422


async def test_each_link_sets_the_password_of_its_own_signup(client, other_client):
    # The owner signs up; someone else then signs up with the same address and another
    # password. The owner's own link must give the owner's password, not the later one.
    await sign_up(client, "owner@example.com", password="the owner's password")
    await sign_up(other_client, "owner@example.com", password="a squatter's password")
    first, second = [m["body_text"] for m in await outbox_to("owner@example.com")]
    assert (await client.post_form(link_in(first, "/verify/"))).status_code == 303
    squatter = await other_client.post_form("/login", {"email": "owner@example.com",
                                                       "password": "a squatter's password"})
    assert squatter.status_code == 422
    owner = await client.post_form("/login", {"email": "owner@example.com",
                                              "password": "the owner's password"})
    assert owner.status_code == 303
    # Once verified, the other pending link is dead.
    assert (await other_client.post_form(link_in(second, "/verify/"))).status_code == 410


async def test_unverified_account_cannot_log_in_and_can_ask_for_a_new_link(client):
    await sign_up(client, "pending@example.com")
    response = await client.post_form("/login", {"email": "pending@example.com", "password": NEW_PASSWORD})
    assert response.status_code == 403
    assert 'action="/verify/resend"' in response.text
    assert (await client.get("/account")).status_code == 303

    resent = await client.post_form("/verify/resend", {"email": "pending@example.com"})
    assert resent.status_code == 303 and resent.headers["location"] == "/signup/sent"
    mails = await outbox_to("pending@example.com")
    assert [m["template"] for m in mails] == ["verify-email", "verify-email"]
    assert (await client.post_form(link_in(mails[1]["body_text"], "/verify/"))).status_code == 303
    response = await client.post_form("/login", {"email": "pending@example.com", "password": NEW_PASSWORD})
    assert response.status_code == 303


async def test_unverified_login_over_htmx_gets_the_block_with_the_resend_form(client):
    await sign_up(client, "pending@example.com")
    response = await client.post_form("/login", {"email": "pending@example.com", "password": NEW_PASSWORD},
                                      htmx=True)
    assert response.status_code == 200  # htmx swaps 2xx and 422 only
    assert "<html" not in response.text
    assert 'id="login-box"' in response.text and 'action="/verify/resend"' in response.text


async def test_resend_for_a_verified_account_sends_nothing(client, alice):
    response = await client.post_form("/verify/resend", {"email": alice.email})
    assert response.status_code == 303
    assert await outbox_to(alice.email) == []


async def test_resend_with_a_bad_address_is_400(client):
    response = await client.post_form("/verify/resend", {"email": "not an address"})
    assert response.status_code == 400


async def test_signup_mails_one_address_at_most_three_times_an_hour(client):
    for _ in range(5):
        response = await sign_up(client, "flooded@example.com")
        assert response.status_code == 303
    assert len(await outbox_to("flooded@example.com")) == 3


async def test_signup_validation_errors_are_per_field_in_english(client):
    response = await client.post_form("/signup", {}, headers=EN)
    assert response.status_code == 422
    assert '<html lang="en">' in response.text
    for name in ("name", "email", "password"):
        assert re.search(rf'<input id="f-{name}"[^>]*aria-invalid="true"', response.text), name
    assert response.text.count("This field is required.") == 3
    assert await Customer.count() == 0

    response = await sign_up(client, "not-an-address", password="short", headers=EN)
    assert response.status_code == 422
    assert "Please enter a valid e-mail address." in response.text
    assert "Please use at least 10 characters." in response.text
    assert 'value="not-an-address"' in response.text  # what was typed is kept...
    assert 'value="short"' not in response.text  # ...except the password
    assert await Customer.count() == 0


async def test_signup_validation_in_turkish(client):
    response = await client.post_form("/signup", {"email": "x"},
                                      headers={"Accept-Language": "tr-TR,tr;q=0.9"})
    assert response.status_code == 422
    assert '<html lang="tr">' in response.text
    assert re.search(r'<input id="f-email"[^>]*aria-invalid="true"', response.text)


async def test_signup_over_htmx(client):
    invalid = await sign_up(client, "bad", htmx=True)
    assert invalid.status_code == 422
    assert "<html" not in invalid.text
    assert invalid.text.lstrip().startswith('<form id="signup-form"')
    assert 'aria-invalid="true"' in invalid.text

    valid = await sign_up(client, "htmx@example.com", htmx=True)
    assert valid.status_code == 200
    assert valid.headers["hx-redirect"] == "/signup/sent"
    assert len(await outbox_to("htmx@example.com")) == 1


async def test_signup_keeps_the_visitors_language_for_the_account_and_mail(client):
    await sign_up(client, "english@example.com", headers=EN)
    row = await customer_row("english@example.com")
    assert row["locale"] == "en"
    mail = (await outbox_to("english@example.com"))[0]
    assert mail["locale"] == "en"
    assert "Confirm your e-mail address" in mail["subject"]
