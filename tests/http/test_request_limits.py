"""Request hygiene on the customer forms: body size, form encoding, CSRF, error pages."""

import pytest

from portal.accounts.tables import Customer
from tests.conftest import outbox_to

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def settings(settings):
    """A small body limit, so "too large" is cheap to reach (the default is 12 MB)."""
    return settings.with_(max_body_bytes=1000)


async def raw_post(client, path: str, body: bytes, **headers: str):
    token = (await client.csrf()).encode()
    return await client.post(path, content=b"_csrf_token=" + token + b"&" + body, headers={**FORM, **headers})


async def test_a_body_over_the_limit_is_413(client):
    response = await client.post_form("/signup", {"name": "x" * 2000, "email": "big@example.com",
                                                  "password": "long enough password"})
    assert response.status_code == 413
    assert "<h1" in response.text and '<html lang="' in response.text
    assert await Customer.count() == 0
    assert await outbox_to("big@example.com") == []


async def test_a_body_under_the_limit_is_fine(client):
    response = await client.post_form("/signup", {"name": "x" * 100, "email": "small@example.com",
                                                  "password": "long enough password"})
    assert response.status_code == 303


async def test_a_too_large_body_is_refused_without_a_content_length_too(client):
    async def chunks():
        for _ in range(20):
            yield b"a" * 100

    token = await client.csrf()
    response = await client.post("/login", content=chunks(), headers={**FORM, "x-csrftoken": token})
    assert response.status_code == 413


@pytest.mark.parametrize("path", ["/login", "/signup", "/password/forgot"])
async def test_malformed_utf8_in_a_form_is_400_not_500(client, path):
    response = await raw_post(client, path, b"name=%FF%FE&email=a%C3%28%40example.com&password=0123456789ab")
    assert response.status_code == 400
    assert "<h1" in response.text
    assert await Customer.count() == 0


async def test_raw_invalid_bytes_in_a_form_are_400(client):
    response = await raw_post(client, "/signup", b"name=\xff\xfe&email=raw@example.com&password=0123456789ab")
    assert response.status_code == 400


async def test_unescaped_utf8_in_a_form_is_read_as_utf8(client):
    # curl -d sends UTF-8 without %-escapes; it must not turn into mojibake.
    body = "name=Çağrı Işık&email=cagri@example.com&password=uzun bir parola".encode()
    response = await raw_post(client, "/signup", body)
    assert response.status_code == 303
    row = await Customer.select(Customer.name).where(Customer.email == "cagri@example.com").first()
    assert row["name"] == "Çağrı Işık"


async def test_escaped_turkish_letters_survive(client):
    response = await client.post_form("/signup", {"name": "İpek Öztürk", "email": "ipek@example.com",
                                                  "password": "long enough password"})
    assert response.status_code == 303
    row = await Customer.select(Customer.name).where(Customer.email == "ipek@example.com").first()
    assert row["name"] == "İpek Öztürk"


@pytest.mark.parametrize("path", ["/login", "/signup", "/password/forgot", "/logout", "/verify/resend"])
async def test_a_form_without_its_csrf_token_is_403(client, path):
    await client.csrf()
    data = {"email": "x@example.com", "password": "0123456789ab", "name": "X"}
    response = await client.post(path, data=data)
    assert response.status_code == 403
    assert "<h1" in response.text and '<html lang="' in response.text


async def test_a_wrong_csrf_token_is_403(client, alice):
    await client.csrf()
    response = await client.post("/login", data={"_csrf_token": "forged", "email": alice.email,
                                                 "password": alice.password})
    assert response.status_code == 403
    assert "portal_session" not in response.headers.get("set-cookie", "")


async def test_a_csrf_token_from_another_browser_is_403(client, other_client, alice):
    theirs = await other_client.csrf()
    await client.csrf()
    response = await client.post("/login", data={"_csrf_token": theirs, "email": alice.email,
                                                 "password": alice.password})
    assert response.status_code == 403


async def test_htmx_sends_the_token_as_a_header(client, alice):
    token = await client.csrf()
    response = await client.post("/login", data={"email": alice.email, "password": alice.password},
                                 headers={"HX-Request": "true", "x-csrftoken": token})
    assert response.status_code == 200 and response.headers["hx-redirect"] == "/"


async def test_error_pages_are_not_cached_and_speak_english_when_asked(client):
    response = await client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"
    assert '<html lang="en">' in response.text
    assert "Page not found." in response.text
