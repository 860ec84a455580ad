"""/account: profile and language, download my data, delete my account (KVKK/GDPR)."""

import json
import re

import pytest

from portal.accounts.tables import Customer
from tests.conftest import login, outbox_to

EN = {"Accept-Language": "en"}


def in_turkish(message: str) -> str:
    """What the page says for an English message id, for a visitor reading Turkish (the default)."""
    from portal.i18n import gettext, use_locale

    with use_locale("tr"):
        return gettext(message)


async def row(customer_id: int) -> dict:
    return await Customer.select().where(Customer.id == customer_id).first()


@pytest.mark.parametrize("path", ["/account", "/account/export"])
async def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path.replace('/', '%2F')}"


@pytest.mark.parametrize("path", ["/account/profile", "/account/password", "/account/delete"])
async def test_anonymous_posts_change_nothing(client, alice, path):
    response = await client.post_form(path, {"name": "X", "locale": "en", "password": alice.password})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert (await row(alice.id))["name"] == alice.name


async def test_account_page_shows_the_customer_and_is_well_structured(client, alice):
    await login(client, alice)
    response = await client.get("/account")
    assert response.status_code == 200
    html = response.text
    assert alice.email in html and f'value="{alice.name}"' in html
    headings = re.findall(r"<h([1-6])", html)
    assert headings[0] == "1" and headings.count("1") == 1
    assert all(int(b) - int(a) <= 1 for a, b in zip(headings, headings[1:], strict=False))
    for field in ("name", "phone", "locale", "current_password", "new_password", "password"):
        assert f'<label for="f-{field}">' in html, field
    assert html.count('name="_csrf_token"') >= 4  # profile, password, delete, log-out
    assert 'href="/account/export"' in html


async def test_profile_update_saves_and_switches_the_language(client, alice):
    await login(client, alice)
    response = await client.post_form("/account/profile", {"name": "Alice Yılmaz-Kaya",
                                                           "phone": "+90 532 123 45 67", "locale": "en"})
    assert response.status_code == 303 and response.headers["location"] == "/account"
    saved = await row(alice.id)
    assert saved["name"] == "Alice Yılmaz-Kaya"
    assert (saved["phone"], saved["locale"]) == ("+90 532 123 45 67", "en")
    page = await client.get("/account")
    assert '<html lang="en">' in page.text
    assert "Your profile has been saved." in page.text  # the flash, in the new language


async def test_profile_validation(client, alice):
    await login(client, alice)
    response = await client.post_form("/account/profile",
                                      {"name": "", "phone": "call me maybe", "locale": "de"}, headers=EN)
    assert response.status_code == 422
    for field in ("name", "phone"):
        assert re.search(rf'<input id="f-{field}"[^>]*aria-invalid="true"', response.text), field
    assert re.search(r'<select id="f-locale"[^>]*aria-invalid="true"', response.text)
    assert in_turkish("Please choose one of the options.") in response.text
    saved = await row(alice.id)
    assert (saved["name"], saved["locale"]) == (alice.name, "tr")


async def test_profile_over_htmx(client, alice):
    await login(client, alice)
    invalid = await client.post_form("/account/profile", {"name": "", "locale": "tr"}, htmx=True)
    assert invalid.status_code == 422
    assert "<html" not in invalid.text and invalid.text.lstrip().startswith('<form id="profile-form"')
    valid = await client.post_form("/account/profile", {"name": "Alice", "locale": "tr"}, htmx=True)
    assert valid.status_code == 200 and valid.headers["hx-redirect"] == "/account"
    assert (await row(alice.id))["name"] == "Alice"


async def test_export_downloads_my_data_as_json(client, alice):
    await login(client, alice)
    response = await client.get("/account/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["cache-control"] == "no-store"
    data = json.loads(response.content)
    assert data["profile"]["email"] == alice.email
    assert data["profile"]["name"] == alice.name
    assert "password_hash" not in response.text and "$argon2" not in response.text


async def test_export_is_only_my_data(client, alice, bob):
    await login(client, bob)
    response = await client.get("/account/export")
    assert json.loads(response.content)["profile"]["email"] == bob.email
    assert alice.email not in response.text


async def test_delete_needs_the_password(client, alice):
    await login(client, alice)
    response = await client.post_form("/account/delete", {"password": "not it"}, headers=EN)
    assert response.status_code == 422
    assert re.search(r'<input id="f-password"[^>]*aria-invalid="true"', response.text)
    assert in_turkish("This is not your current password.") in response.text
    assert "<details open>" in response.text  # the form with its error is not hidden
    assert (await row(alice.id))["deleted_at"] is None
    htmx = await client.post_form("/account/delete", {"password": ""}, htmx=True)
    assert htmx.status_code == 422
    assert "<html" not in htmx.text and htmx.text.lstrip().startswith('<form id="delete-form"')


async def test_delete_anonymises_logs_out_and_the_password_stops_working(client, other_client, alice):
    await login(client, alice)
    await login(other_client, alice)
    response = await client.post_form("/account/delete", {"password": alice.password})
    assert response.status_code == 303 and response.headers["location"] == "/"

    gone = await row(alice.id)
    assert gone["deleted_at"] is not None
    assert gone["email"] != alice.email and alice.email not in str(gone) and alice.name not in str(gone)
    assert gone["name"] == "" and gone["phone"] is None
    assert gone["password_hash"] is None
    assert (await client.get("/account")).status_code == 303
    assert (await other_client.get("/account")).status_code == 303
    again = await client.post_form("/login", {"email": alice.email, "password": alice.password})
    assert again.status_code == 422
    # No mail goes to an erased address.
    assert await outbox_to(alice.email) == []


async def test_the_address_can_sign_up_again_after_deletion(client, alice):
    await login(client, alice)
    await client.post_form("/account/delete", {"password": alice.password})
    response = await client.post_form("/signup", {"name": "Alice", "email": alice.email,
                                                  "password": "a new beginning"})
    assert response.status_code == 303
    assert [m["template"] for m in await outbox_to(alice.email)] == ["verify-email"]
    assert await Customer.count().where(Customer.email == alice.email) == 1


async def test_language_switch_is_saved_on_the_account(client, alice):
    await login(client, alice)
    response = await client.post_form("/lang", {"lang": "en", "next": "/account"})
    assert response.status_code == 303 and response.headers["location"] == "/account"
    assert (await row(alice.id))["locale"] == "en"
    assert '<html lang="en">' in (await client.get("/account")).text


async def test_language_switch_for_visitors_uses_a_cookie_and_stays_on_the_site(client):
    response = await client.post_form("/lang", {"lang": "en", "next": "//evil.com"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert '<html lang="en">' in (await client.get("/login")).text
    repeated = await client.post("/lang", data={"_csrf_token": await client.csrf(), "lang": "tr",
                                                "next": ["/a", "/b"]})
    assert repeated.status_code == 303 and repeated.headers["location"] == "/"
