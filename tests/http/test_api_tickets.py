"""/api/v1/tickets: open, list, read, change and answer tickets with a Bearer token."""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.accounts import service as accounts
from portal.clock import now
from portal.mail.tables import Outbox
from portal.tickets.tables import Message, Ticket
from tests.conftest import outbox_to

NEW = {"subject": "Fatura hatalı", "message": "Faturadaki tutar yanlış.",
       "requester": {"email": "ayse@example.com", "name": "Ayşe Yılmaz"},
       "priority": "high", "team": "destek", "tags": ["fatura"]}


@pytest.fixture
async def token(client) -> str:
    return await accounts.create_api_token("crm", now=now())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _create(client, token, body=None):
    return await client.post("/api/v1/tickets", json=body or NEW, headers=bearer(token))


async def test_create_and_read_a_ticket(client, token, carol):
    response = await _create(client, token)
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["ref"] == "T-1001" and ticket["status"] == "new" and ticket["channel"] == "api"
    assert ticket["priority"] == "high" and ticket["team"] == "destek" and ticket["tags"] == ["fatura"]
    assert ticket["requester"] == {"email": "ayse@example.com", "name": "Ayşe Yılmaz"}
    assert ticket["order"] is None and ticket["assignee"] is None and ticket["satisfaction"] is None
    assert datetime.fromisoformat(ticket["created_at"]).tzinfo is not None
    assert ticket["created_at"].endswith("+00:00")
    assert set(ticket["sla"]) == {"first_response", "next_response", "resolution"}
    no_policy = {"due_at": None, "met_at": None, "breached": False, "paused": False}
    assert ticket["sla"]["first_response"] == no_policy
    assert [m["template"] for m in await outbox_to("ayse@example.com")] == ["ticket-created"]
    read = await client.get("/api/v1/tickets/T-1001", headers=bearer(token))
    assert read.status_code == 200 and read.json() == ticket
    assert (await client.get("/api/v1/tickets/T-999", headers=bearer(token))).status_code == 404
    assert (await client.get("/api/v1/tickets/nonsense", headers=bearer(token))).status_code == 404


async def test_bad_bodies_are_refused_with_field_errors(client, token, carol):
    unknown = await _create(client, token, {**NEW, "status": "solved"})
    assert unknown.status_code == 422 and unknown.json()["error"]["fields"] == {
        "status": unknown.json()["error"]["fields"]["status"]}
    assert (await _create(client, token, {**NEW, "priority": "asap"})).json()["error"]["fields"].keys() == {
        "priority"}
    for field, value in (("team", "nope"), ("order", "SP-NONE"), ("assignee", "nobody@example.com")):
        refused = await _create(client, token, {**NEW, field: value})
        assert refused.status_code == 422 and field in refused.json()["error"]["fields"]
    missing = await _create(client, token, {"subject": "x", "message": "y"})
    assert missing.status_code == 422 and "requester" in missing.json()["error"]["fields"]
    bad_json = await client.post("/api/v1/tickets", content=b"{", headers={
        **bearer(token), "Content-Type": "application/json"})
    assert bad_json.status_code == 400
    assert await Ticket.count() == 0


async def test_tokens_need_the_tickets_scope(client):
    assert (await client.get("/api/v1/tickets")).status_code == 401
    orders_only = await accounts.create_api_token("shop", now=now(), scopes="orders")
    response = await client.get("/api/v1/tickets", headers=bearer(orders_only))
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert (await _create(client, orders_only)).status_code == 403


async def test_list_is_newest_first_with_filters_and_a_cursor(client, token, carol):
    for i in range(5):
        assert (await _create(client, token, {**NEW, "subject": f"Konu {i}",
                                              "team": "destek" if i % 2 else None})).status_code == 201
    await client.patch("/api/v1/tickets/T-1002", json={"status": "open"}, headers=bearer(token))
    first = await client.get("/api/v1/tickets?limit=2", headers=bearer(token))
    body = first.json()
    assert [t["ref"] for t in body["items"]] == ["T-1005", "T-1004"] and body["next"]

    async def page(cursor):
        return (await client.get(f"/api/v1/tickets?limit=2&cursor={cursor}", headers=bearer(token))).json()

    second = await page(body["next"])
    third = await page(second["next"])
    assert [t["ref"] for t in second["items"] + third["items"]] == ["T-1003", "T-1002", "T-1001"]
    assert third["next"] is None
    opened = (await client.get("/api/v1/tickets?status=open", headers=bearer(token))).json()
    assert [t["ref"] for t in opened["items"]] == ["T-1002"]
    team = (await client.get("/api/v1/tickets?team=destek", headers=bearer(token))).json()
    assert [t["ref"] for t in team["items"]] == ["T-1004", "T-1002"]
    since = (await client.get("/api/v1/tickets", params={"updated_since": "2000-01-01T00:00:00+03:00"},
                              headers=bearer(token))).json()
    assert len(since["items"]) == 5
    future = (await client.get("/api/v1/tickets", params={"updated_since": "2999-01-01T00:00:00+00:00"},
                               headers=bearer(token))).json()
    assert future["items"] == []
    for bad in ("status=nope", "updated_since=yesterday", "updated_since=2026-01-01T00:00:00", "cursor=%%%",
                "team=nope"):
        assert (await client.get(f"/api/v1/tickets?{bad}", headers=bearer(token))).status_code == 422, bad


async def test_patch_changes_fields_and_refuses_stale_versions(client, token, carol):
    ticket = (await _create(client, token)).json()
    response = await client.patch("/api/v1/tickets/T-1001", headers=bearer(token), json={
        "status": "pending", "priority": "urgent", "assignee": carol.email, "team": "destek",
        "tags": ["fatura", "iade"], "version": ticket["version"]})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["status"], changed["priority"], changed["assignee"]) == ("pending", "urgent", carol.email)
    assert changed["tags"] == ["fatura", "iade"] and changed["version"] == ticket["version"] + 1
    assert [m["template"] for m in await outbox_to(carol.email)] == ["ticket-assigned"]
    stale = await client.patch("/api/v1/tickets/T-1001", headers=bearer(token),
                               json={"priority": "low", "version": ticket["version"]})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    assert (await Ticket.select(Ticket.priority).first())["priority"] == "urgent"
    cleared = await client.patch("/api/v1/tickets/T-1001", headers=bearer(token), json={"assignee": None})
    assert cleared.json()["assignee"] is None
    closed = await client.patch("/api/v1/tickets/T-1001", headers=bearer(token), json={"status": "closed"})
    assert closed.status_code == 422 and "status" in closed.json()["error"]["fields"]
    unknown = await client.patch("/api/v1/tickets/T-1001", headers=bearer(token), json={"internal": True})
    assert unknown.status_code == 422 and "internal" in unknown.json()["error"]["fields"]
    nobody = await client.patch("/api/v1/tickets/T-1001", headers=bearer(token), json={"assignee": "x@y.z"})
    assert nobody.status_code == 422
    assert (await client.patch("/api/v1/tickets/T-5", headers=bearer(token), json={})).status_code == 404


async def test_messages_reply_or_note(client, token, carol):
    await _create(client, token)
    before = await Outbox.count()
    note = await client.post("/api/v1/tickets/T-1001/messages", headers=bearer(token),
                             json={"body": "iç not", "public": False})
    assert note.status_code == 201 and note.json()["message"]["public"] is False
    assert await Outbox.count() == before
    reply = await client.post("/api/v1/tickets/T-1001/messages", headers=bearer(token),
                              json={"body": "<b>Merhaba</b>"})
    assert reply.status_code == 201
    body = reply.json()
    assert body["message"]["body"] == "<b>Merhaba</b>" and body["ticket"]["status"] == "open"
    assert body["ticket"]["first_response_at"] is not None
    mails = await outbox_to("ayse@example.com")
    assert mails[-1]["template"] == "ticket-reply" and "<b>Merhaba</b>" not in mails[-1]["body_html"]
    assert (await client.post("/api/v1/tickets/T-1001/messages", headers=bearer(token),
                              json={"body": ""})).status_code == 422
    await Ticket.update({Ticket.status: "closed"}).where(Ticket.number == 1001)
    closed = await client.post("/api/v1/tickets/T-1001/messages", headers=bearer(token), json={"body": "x"})
    assert closed.status_code == 409
    assert await Message.count() == 3
