"""/staff/settings/api-tokens: a token is shown once, only its SHA-256 is kept, revoking works."""

from __future__ import annotations

import hashlib
import re

from portal.accounts.service import api_token_for
from portal.accounts.tables import ApiToken
from portal.clock import now
from tests.conftest import staff_login

TOKEN = re.compile(r'id="new-token"[^>]*value="(pt_[A-Za-z0-9_-]+)"')


async def test_create_shows_the_token_once_and_stores_only_its_hash(client, dave):
    await staff_login(client, dave)
    response = await client.post_form("/staff/settings/api-tokens", {"name": "web shop"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    match = TOKEN.search(response.text)
    assert match, response.text[:2000]
    secret = match.group(1)

    row = await ApiToken.select().first()
    assert row["name"] == "web shop" and row["created_by"] == dave.id
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(row)
    assert (await api_token_for(secret, now=now()))["name"] == "web shop"

    listing = await client.get("/staff/settings/api-tokens")
    assert secret not in listing.text
    assert row["prefix"] in listing.text and 'id="new-token"' not in listing.text
    assert f'action="/staff/settings/api-tokens/{row["id"]}/revoke"' in listing.text


async def test_create_with_htmx_returns_the_section_with_the_token(client, dave):
    await staff_login(client, dave)
    response = await client.post_form("/staff/settings/api-tokens", {"name": "ERP"}, htmx=True)
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="tokens-section"' in response.text
    assert TOKEN.search(response.text)


async def test_a_name_is_required(client, dave):
    await staff_login(client, dave)
    response = await client.post_form("/staff/settings/api-tokens", {"name": "  "}, htmx=True)
    assert response.status_code == 422
    assert 'aria-describedby="f-name-error"' in response.text
    assert await ApiToken.count() == 0


async def test_revoke(client, dave):
    await staff_login(client, dave)
    response = await client.post_form("/staff/settings/api-tokens", {"name": "old system"})
    secret = TOKEN.search(response.text).group(1)
    token_id = (await ApiToken.select(ApiToken.id).first())["id"]

    response = await client.post_form(f"/staff/settings/api-tokens/{token_id}/revoke")
    assert response.status_code == 303 and response.headers["location"] == "/staff/settings/api-tokens"
    assert await api_token_for(secret, now=now()) is None
    assert (await ApiToken.select().first())["revoked_at"] is not None
    page = (await client.get("/staff/settings/api-tokens")).text
    assert f'action="/staff/settings/api-tokens/{token_id}/revoke"' not in page

    assert (await client.post_form(f"/staff/settings/api-tokens/{token_id}/revoke")).status_code == 404
    assert (await client.post_form("/staff/settings/api-tokens/999999/revoke", htmx=True)).status_code == 404


async def test_agents_cannot_create_tokens(client, carol):
    await staff_login(client, carol)
    response = await client.post_form("/staff/settings/api-tokens", {"name": "mine"})
    assert response.status_code == 403
    assert "pt_" not in response.text
    assert await ApiToken.count() == 0
