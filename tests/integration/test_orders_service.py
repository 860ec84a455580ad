"""Order service rules on both databases: idempotence, the timeline, mail coalescing, KVKK."""

import asyncio
from datetime import timedelta

import pytest

from portal.accounts import service as accounts
from portal.accounts.tables import Customer
from portal.clock import now
from portal.mail.tables import Outbox
from portal.orders import service
from portal.orders.service import Change
from portal.orders.tables import Order, OrderEvent
from tests.order_fixtures import create_order, sample_order


async def events(number="SP-10042"):
    order = await Order.select(Order.id).where(Order.number == number).first()
    return await OrderEvent.select().where(OrderEvent.order == order["id"]).order_by(OrderEvent.id)


async def test_concurrent_creates_make_one_order(running_app):
    data = sample_order()
    outcomes = await asyncio.gather(*[service.upsert_order(data, actor="t", now=now()) for _ in range(4)])
    assert sum(o.created for o in outcomes) == 1
    assert await Order.count() == 1
    assert len(await events()) == 1


async def test_every_change_is_kept_with_time_and_note(running_app):
    await create_order()
    t0 = now()
    changes = [Change(status="confirmed"),
               Change(status="shipped", carrier="aras", tracking_number="AR1", note="Depodan çıktı"),
               Change(tracking_number="AR2"), Change(note="Kurye yolda"), Change(note="Kurye yolda")]
    for hours, change in enumerate(changes):
        await service.change_order("SP-10042", change, actor="a", now=t0 + timedelta(hours=hours))
    rows = await events()
    expected = [("created", "received"), ("status", "confirmed"), ("status", "shipped"), ("shipment", None),
                ("note", None)]
    assert [(e["kind"], e["status"]) for e in rows] == expected
    assert rows[2]["note"] == "Depodan çıktı" and rows[2]["tracking_number"] == "AR1"
    assert rows[3]["tracking_number"] == "AR2"


async def test_rapid_changes_are_one_mail_with_the_latest_state(running_app):
    await create_order()
    t0 = now()
    await service.change_order("SP-10042", Change(status="confirmed"), actor="a", now=t0)
    await service.change_order("SP-10042", Change(status="preparing"), actor="a",
                               now=t0 + timedelta(seconds=20))
    await service.change_order("SP-10042", Change(status="shipped", tracking_number="YK9"), actor="a",
                               now=t0 + timedelta(seconds=40))
    mails = await Outbox.select().where(Outbox.to_addr == "alice@example.com")
    assert len(mails) == 1
    assert mails[0]["template"] == "order-shipped" and "YK9" in mails[0]["body_text"]
    # Once that mail is on its way, the next change is a new mail.
    await Outbox.update({Outbox.sent_at: t0 + timedelta(minutes=2)}).where(Outbox.id == mails[0]["id"])
    await service.change_order("SP-10042", Change(status="delivered"), actor="a", now=t0 + timedelta(days=1))
    templates = [m["template"] for m in await Outbox.select().order_by(Outbox.id)]
    assert templates == ["order-shipped", "order-delivered"]


async def test_mail_is_in_the_customers_language_and_links_the_account(running_app, alice):
    await Customer.update({Customer.locale: "en"}).where(Customer.id == alice.id)
    await create_order(email=alice.email)
    await service.change_order("SP-10042", Change(status="delivered"), actor="a", now=now())
    mail = (await Outbox.select().where(Outbox.to_addr == alice.email))[0]
    assert mail["locale"] == "en"
    assert "/orders/SP-10042" in mail["body_text"]
    assert "lang=\"en\"" in mail["body_html"]


async def test_notify_false_writes_no_mail(running_app):
    await create_order()
    await service.change_order("SP-10042", Change(status="shipped"), actor="demo", now=now(), notify=False)
    assert await Outbox.count() == 0


async def test_unknown_order_and_bad_change(running_app):
    with pytest.raises(service.OrderNotFound):
        await service.change_order("NOPE", Change(status="shipped"), actor="a", now=now())
    await create_order()
    with pytest.raises(service.OrderInvalid) as exc:
        await service.change_order("SP-10042", Change(status="teleported"), actor="a", now=now())
    assert "status" in exc.value.fields


async def test_changing_the_email_moves_the_order_to_that_customer(running_app, alice, bob):
    await create_order(email=alice.email)
    await service.upsert_order(sample_order(email=bob.email), actor="a", now=now())
    order = await Order.select(Order.customer).first()
    assert order["customer"] == bob.id


async def test_customers_are_never_deleted_under_an_order(running_app, alice):
    await create_order(email=alice.email)
    with pytest.raises(Exception):  # noqa: B017 - the database refuses (ON DELETE RESTRICT)
        await Customer.delete().where(Customer.id == alice.id)
    assert await Order.count() == 1


async def test_data_download_and_account_deletion(running_app, alice):
    await create_order(email=alice.email)
    exported = await accounts.export_customer(alice.id)
    assert exported["orders"][0]["number"] == "SP-10042"
    assert exported["orders"][0]["total"] == "1934.36"
    assert exported["orders"][0]["items"][0]["name"] == "Çelik Termos 1L"
    await accounts.delete_account(alice.id, now=now())
    order = await Order.select().first()
    assert order["email"] == f"deleted-{alice.id}@invalid"
    assert (order["customer_name"], order["phone"], order["shipping_address"]) == ("", None, "")
    # The order is kept (the shop's books need it) but no longer found by the old address.
    from portal.orders import queries

    assert await queries.order_for_guest("SP-10042", alice.email) is None
