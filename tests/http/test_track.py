"""/track: guest order status by number + e-mail, without enumeration, throttled."""

import re

import pytest

from portal.customer import orders as track_module
from tests.order_fixtures import create_order


def _answer(html: str) -> str:
    """The page without the parts that differ per request (CSRF token, the typed values)."""
    html = re.sub(r'name="_csrf_token" value="[^"]*"', "", html)
    html = re.sub(r'"x-csrftoken": "[^"]*"', "", html)
    return re.sub(r'(id="f-(?:number|email)"[^>]*?) value="[^"]*"', r"\1", html)


async def test_form_renders(client):
    response = await client.get("/track")
    assert response.status_code == 200
    assert 'name="number"' in response.text and 'name="email"' in response.text
    assert 'name="_csrf_token"' in response.text


async def test_found_shows_status_timeline_items_but_no_address_or_phone(client):
    await create_order("SP-10042", "İrem.Işık@Example.com", name="İrem Işık")
    response = await client.post_form("/track", {"number": "SP-10042", "email": "irem.işık@example.com"})
    assert response.status_code == 200
    text = response.text
    assert 'data-track="found"' in text
    assert "Çelik Termos 1L" in text and "₺1.934,36" in text
    assert "YK123456789" in text
    assert "Kadıköy" not in text and "Bağdat" not in text  # no address
    assert "5321234567" not in text  # no phone
    assert response.headers["cache-control"] == "private, no-store"


async def test_number_is_case_insensitive_and_spaces_are_ignored(client):
    await create_order("SP-10042", "alice@example.com")
    response = await client.post_form("/track", {"number": " sp-10042 ", "email": "ALICE@EXAMPLE.COM "})
    assert 'data-track="found"' in response.text


async def test_dotless_i_is_not_i(client):
    await create_order("SP-10042", "mike@example.com")
    response = await client.post_form("/track", {"number": "SP-10042", "email": "mıke@example.com"})
    assert 'data-track="not-found"' in response.text


async def test_wrong_number_and_wrong_email_read_the_same(client):
    await create_order("SP-10042", "alice@example.com")
    wrong_email = await client.post_form("/track", {"number": "SP-10042", "email": "bob@example.com"})
    wrong_number = await client.post_form("/track", {"number": "SP-99999", "email": "bob@example.com"})
    assert wrong_email.status_code == wrong_number.status_code == 200
    assert 'data-track="not-found"' in wrong_email.text
    assert _answer(wrong_email.text).replace("SP-10042", "SP-99999") == _answer(wrong_number.text)
    assert "Çelik" not in wrong_email.text


async def test_htmx_gets_the_tracker_block(client):
    await create_order("SP-10042", "alice@example.com")
    response = await client.post_form("/track", {"number": "SP-10042", "email": "alice@example.com"},
                                      htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="tracker">')


async def test_invalid_form_is_422_with_field_errors(client):
    response = await client.post_form("/track", {"number": "", "email": "not-an-address"})
    assert response.status_code == 422
    assert 'id="f-number" name="number"' in response.text
    assert response.text.count('aria-invalid="true"') == 2


async def test_failed_attempts_are_throttled_per_order_number(client, other_client, monkeypatch):
    monkeypatch.setattr(track_module, "TRACK_PER_NUMBER", 3)
    await create_order("SP-10042", "alice@example.com")
    for i in range(3):
        r = await client.post_form("/track", {"number": "SP-10042", "email": f"guess{i}@example.com"})
        assert r.status_code == 200
    blocked = await client.post_form("/track", {"number": "SP-10042", "email": "alice@example.com"})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    # htmx gets the notice inside the form (it swaps only 2xx and 422)
    hx = await client.post_form("/track", {"number": "SP-10042", "email": "alice@example.com"}, htmx=True)
    assert "retry-after" in hx.headers and 'role="alert"' in hx.text and "Çelik" not in hx.text
    # Another order from the same address is still answered.
    await create_order("SP-2", "alice@example.com")
    ok = await client.post_form("/track", {"number": "SP-2", "email": "alice@example.com"})
    assert 'data-track="found"' in ok.text


async def test_failed_attempts_are_throttled_per_client_address(client, monkeypatch):
    monkeypatch.setattr(track_module, "TRACK_PER_ADDRESS", 2)
    for i in range(2):
        await client.post_form("/track", {"number": f"SP-{i}", "email": "x@example.com"})
    response = await client.post_form("/track", {"number": "SP-3", "email": "x@example.com"})
    assert response.status_code == 429


@pytest.mark.parametrize("number", ["SP-10042", "sp-10042"])
async def test_successes_do_not_count_toward_the_limit(client, monkeypatch, number):
    monkeypatch.setattr(track_module, "TRACK_PER_NUMBER", 2)
    await create_order("SP-10042", "alice@example.com")
    for _ in range(4):
        r = await client.post_form("/track", {"number": number, "email": "alice@example.com"})
        assert 'data-track="found"' in r.text
