"""The per-request lookups written as prebuilt SQL (``db.fetch_one``) return exactly what the
Piccolo query builder returns (same keys, values and types) on both databases, inside and
outside a transaction, and refuse what the builder's ``where`` refused."""

from __future__ import annotations

from datetime import timedelta

from portal import db
from portal.accounts import service
from portal.accounts.tables import Customer, StaffUser
from portal.clock import now


async def test_customer_lookup_matches_the_query_builder(client, alice) -> None:
    expected = await Customer.select(*service.CUSTOMER_SESSION_COLUMNS).where(Customer.id == alice.id).first()
    row = await service.customer_for_session(alice.id, expected["session_version"])
    assert row == expected
    assert {k: type(v) for k, v in row.items()} == {k: type(v) for k, v in expected.items()}
    assert row["created_at"].utcoffset() == timedelta(0)


async def test_customer_lookup_refuses_what_the_builder_refused(client, alice) -> None:
    assert await service.customer_for_session(alice.id, 0) is not None
    assert await service.customer_for_session(alice.id, 1) is None  # another session_version
    assert await service.customer_for_session(alice.id + 999, 0) is None
    assert await service.customer_for_session(str(alice.id), 0) is None  # not an int from the session
    await Customer.update({Customer.email_verified_at: None}).where(Customer.id == alice.id)
    assert await service.customer_for_session(alice.id, 0) is None
    await Customer.update({Customer.email_verified_at: now(), Customer.deleted_at: now()}).where(
        Customer.id == alice.id)
    assert await service.customer_for_session(alice.id, 0) is None


async def test_staff_lookup_matches_the_query_builder(client, carol) -> None:
    expected = await StaffUser.select(
        StaffUser.id, StaffUser.email, StaffUser.name, StaffUser.role, StaffUser.locale,
        StaffUser.session_version, StaffUser.available,
    ).where(StaffUser.id == carol.id).first()
    row = await service.staff_for_session(carol.id, expected["session_version"])
    assert row == expected
    assert {k: type(v) for k, v in row.items()} == {k: type(v) for k, v in expected.items()}
    assert isinstance(row["available"], bool)
    await StaffUser.update({StaffUser.active: False}).where(StaffUser.id == carol.id)
    assert await service.staff_for_session(carol.id, expected["session_version"]) is None


async def test_fetch_one_sees_the_current_transaction(client, alice) -> None:
    async with db.transaction():
        await Customer.update({Customer.session_version: 7}).where(Customer.id == alice.id)
        row = await db.fetch_one('SELECT "session_version" FROM "customer" WHERE "id" = {}', alice.id)
        assert row == {"session_version": 7}
    assert await db.fetch_one('SELECT "id" FROM "customer" WHERE "id" = {}', -1) is None
    rows = await db.fetch_all('SELECT "id", "email" FROM "customer" WHERE "id" >= {} AND "email" LIKE {} ORDER BY "id"',
                              0, "%@example.com")
    assert rows == [{"id": alice.id, "email": alice.email}]
    assert await db.ping()
