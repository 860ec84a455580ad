"""PUT/PATCH/GET /api/v1/orders/{number}: a shop pushes orders with a Bearer token."""

from datetime import timedelta

import pytest

from portal.accounts import service as accounts
from portal.clock import now
from portal.mail.tables import Outbox
from portal.orders.tables import Order, OrderEvent, OrderItem
from tests.conftest import outbox_to

ORDER = {
    "customer": {"email": "ayse@example.com", "name": "Ayşe Yılmaz", "phone": "+905321234567"},
    "items": [{"sku": "KLM-01", "name": "Çelik Termos 1L", "quantity": 2, "unit_price": "349.90"}],
    "total": "699.80", "currency": "TRY", "status": "received", "placed_at": "2026-11-22T10:15:00+03:00",
    "carrier": "yurtici", "tracking_number": "YK123456789", "estimated_delivery": "2026-11-25",
}


@pytest.fixture
async def token(client) -> str:
    return await accounts.create_api_token("shop", now=now())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def put(client, token, number="SP-10042", body=None):
    return await client.put(f"/api/v1/orders/{number}", json=body or ORDER, headers=bearer(token))


async def test_put_creates_then_get_reads(client, token):
    response = await put(client, token)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["number"] == "SP-10042"
    assert body["total"] == "699.80"
    assert body["items"] == [{"sku": "KLM-01", "name": "Çelik Termos 1L", "quantity": 2,
                              "unit_price": "349.90"}]
    assert body["placed_at"] == "2026-11-22T07:15:00+00:00"
    assert body["carrier_name"] == "Yurtiçi Kargo"
    assert body["tracking_url"].endswith("code=YK123456789")
    assert body["estimated_delivery"] == "2026-11-25"
    assert [e["kind"] for e in body["timeline"]] == ["created"]
    got = await client.get("/api/v1/orders/SP-10042", headers=bearer(token))
    assert got.status_code == 200
    assert got.json()["customer"] == {"email": "ayse@example.com", "name": "Ayşe Yılmaz",
                                      "phone": "+905321234567"}
    # Creating an order does not mail: the shop confirmed it itself.
    assert await outbox_to("ayse@example.com") == []


async def test_numbers_are_accepted_for_money(client, token):
    body = {**ORDER, "total": 699.8, "items": [{**ORDER["items"][0], "unit_price": 349.9}]}
    response = await put(client, token, body=body)
    assert response.status_code == 201
    assert response.json()["total"] == "699.80"


async def test_put_same_body_twice_changes_nothing(client, token):
    await put(client, token)
    again = await put(client, token)
    assert again.status_code == 200
    assert await OrderEvent.count() == 1
    assert await OrderItem.count() == 1


async def test_put_replaces_items_and_records_changes(client, token):
    await put(client, token)
    body = {**ORDER, "status": "shipped", "items": [
        {"name": "Çelik Termos 1L", "quantity": 1, "unit_price": "349.90"},
        {"name": "Kamp Sandalyesi", "quantity": 1, "unit_price": "899.00"}], "total": "1248.90"}
    response = await put(client, token, body=body)
    assert response.status_code == 200
    data = response.json()
    assert [i["name"] for i in data["items"]] == ["Çelik Termos 1L", "Kamp Sandalyesi"]
    assert [e["kind"] for e in data["timeline"]] == ["created", "status", "updated"]
    mails = await outbox_to("ayse@example.com")
    assert [m["template"] for m in mails] == ["order-shipped"]


async def test_patch_changes_status_and_shipment(client, token):
    await put(client, token)
    response = await client.patch("/api/v1/orders/SP-10042", headers=bearer(token), json={
        "status": "shipped", "carrier": "aras", "tracking_number": "AR1", "note": "Depodan çıktı"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["status"] == "shipped"
    assert data["tracking_url"] == "https://kargotakip.araskargo.com.tr/mainpage.aspx?code=AR1"
    last = data["timeline"][-1]
    assert (last["kind"], last["status"], last["note"]) == ("status", "shipped", "Depodan çıktı")
    assert last["actor"] == "api:shop"


async def test_patch_that_changes_nothing_writes_nothing(client, token):
    await put(client, token)
    await client.patch("/api/v1/orders/SP-10042", headers=bearer(token), json={"status": "confirmed"})
    events, mails = await OrderEvent.count(), await Outbox.count()
    response = await client.patch("/api/v1/orders/SP-10042", headers=bearer(token),
                                  json={"status": "confirmed", "carrier": "yurtici"})
    assert response.status_code == 200
    assert await OrderEvent.count() == events
    assert await Outbox.count() == mails
    empty = await client.patch("/api/v1/orders/SP-10042", headers=bearer(token), json={})
    assert empty.status_code == 200
    assert await OrderEvent.count() == events


async def test_two_patches_within_a_minute_are_one_mail_with_the_latest_status(client, token):
    await put(client, token)
    first = await client.patch("/api/v1/orders/SP-10042", headers=bearer(token), json={"status": "confirmed"})
    second = await client.patch("/api/v1/orders/SP-10042", headers=bearer(token), json={"status": "shipped"})
    assert first.status_code == second.status_code == 200
    mails = await outbox_to("ayse@example.com")
    assert len(mails) == 1
    mail = mails[0]
    assert mail["template"] == "order-shipped"
    assert mail["coalesce_key"].startswith("order-status:")
    assert "SP-10042" in mail["subject"]
    assert "YK123456789" in mail["body_text"]
    assert mail["run_after"] > now() + timedelta(seconds=30)  # held back a minute for coalescing
    # The customer has no account: the mail points to guest tracking.
    assert "/track" in mail["body_text"]


async def test_bad_status_is_422_naming_the_field(client, token):
    response = await put(client, token, body={**ORDER, "status": "lost"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "status" in error["fields"]
    patch = await client.patch("/api/v1/orders/SP-10042", headers=bearer(token), json={"status": "lost"})
    assert patch.status_code in (404, 422)
    await put(client, token)
    patch = await client.patch("/api/v1/orders/SP-10042", headers=bearer(token), json={"status": "lost"})
    assert patch.status_code == 422
    assert "status" in patch.json()["error"]["fields"]
    assert await Order.count() == 1


async def test_bad_email_is_422(client, token):
    response = await put(client, token, body={**ORDER, "customer": {"email": "not-an-address", "name": "X"}})
    assert response.status_code == 422
    assert "customer.email" in response.json()["error"]["fields"]
    assert await Order.count() == 0


@pytest.mark.parametrize("body, field", [
    ({**ORDER, "discount": "10"}, "discount"),
    ({**ORDER, "customer": {**ORDER["customer"], "age": 3}}, "customer.age"),
    ({**ORDER, "items": [{**ORDER["items"][0], "colour": "red"}]}, "items[0].colour"),
])
async def test_unknown_fields_are_422(client, token, body, field):
    response = await put(client, token, body=body)
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert await Order.count() == 0


async def test_other_validation_errors(client, token):
    cases = [
        ({**ORDER, "placed_at": "2026-11-22T10:15:00"}, "placed_at"),  # no offset
        ({**ORDER, "total": "12.345"}, "total"),
        ({**ORDER, "items": []}, "items"),
        ({**ORDER, "items": [{**ORDER["items"][0], "quantity": 0}]}, "items[0].quantity"),
        ({**ORDER, "currency": "lira"}, "currency"),
    ]
    for body, field in cases:
        response = await put(client, token, body=body)
        assert response.status_code == 422, (field, response.text)
        assert field in response.json()["error"]["fields"], (field, response.json())
    bad_number = await put(client, token, number="SP 1", body=ORDER)
    assert bad_number.status_code in (404, 422)
    not_json = await client.put("/api/v1/orders/SP-1", content=b"{", headers={
        **bearer(token), "content-type": "application/json"})
    assert not_json.status_code == 400


async def test_missing_or_wrong_token_is_401(client, token):
    response = await client.put("/api/v1/orders/SP-10042", json=ORDER)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    wrong = await client.get("/api/v1/orders/SP-10042", headers=bearer("pt_wrong"))
    assert wrong.status_code == 401
    assert await Order.count() == 0


async def test_revoked_token_is_401(client, token):
    row = (await accounts.ApiToken.select().where(accounts.ApiToken.name == "shop"))[0]
    await accounts.revoke_api_token(row["id"], now=now())
    assert (await put(client, token)).status_code == 401


async def test_token_without_the_orders_scope_is_403(client, token):
    other = await accounts.create_api_token("helpdesk-bot", now=now(), scopes="tickets")
    response = await client.put("/api/v1/orders/SP-10042", json=ORDER, headers=bearer(other))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    await put(client, token)
    assert (await client.get("/api/v1/orders/SP-10042", headers=bearer(other))).status_code == 403
    scoped = await accounts.create_api_token("shop-2", now=now(), scopes="orders")
    assert (await client.get("/api/v1/orders/SP-10042", headers=bearer(scoped))).status_code == 200


async def test_unknown_order_is_404(client, token):
    assert (await client.get("/api/v1/orders/NOPE-1", headers=bearer(token))).status_code == 404
    response = await client.patch("/api/v1/orders/NOPE-1", headers=bearer(token), json={"status": "shipped"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_a_customer_session_is_not_an_api_token(client, token, alice):
    from tests.conftest import login

    await put(client, token, body={**ORDER, "customer": {"email": alice.email, "name": alice.name}})
    await login(client, alice)
    assert (await client.get("/api/v1/orders/SP-10042")).status_code == 401


async def test_openapi_lists_the_order_endpoints(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"put", "patch", "get"} <= set(paths["/api/v1/orders/{number}"])
