"""The demo orders: every status, Turkish carriers, safe to load twice, no mail."""

from portal.mail.tables import Outbox
from portal.orders import demo, service
from portal.orders.tables import Order, OrderEvent


async def test_demo_orders_cover_every_status_and_load_twice(running_app, settings):
    await demo.demo_step(settings, None)
    counts = (await Order.count(), await OrderEvent.count())
    assert {r["status"] for r in await Order.select(Order.status)} == set(service.STATUSES)
    carriers = {r["carrier"] for r in await Order.select(Order.carrier)}
    assert {"yurtici", "aras", "mng", "ptt", "surat"} <= carriers
    await demo.demo_step(settings, None)
    assert (await Order.count(), await OrderEvent.count()) == counts
    assert await Outbox.count() == 0


def test_paths_follow_the_usual_order():
    assert demo.path_to("received") == []
    assert demo.path_to("shipped") == ["confirmed", "preparing", "shipped"]
    assert demo.path_to("refunded")[-3:] == ["return_requested", "returned", "refunded"]
    assert demo.path_to("cancelled") == ["confirmed", "cancelled"]
