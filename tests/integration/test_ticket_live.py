"""Live updates: every committed ticket change reaches the channels the staff pages listen
on, in one process (memory) and across processes (Redis)."""

from __future__ import annotations

import asyncio
import json
import uuid

from portal.accounts import service as accounts
from portal.app import create_app
from portal.clock import now
from portal.staff.live import QUEUE, TicketChannels, viewers_html
from portal.tickets import changes, service
from portal.tickets.rules import Actor

REDIS_URL = "redis://127.0.0.1:6379/0"


async def _open(subject: str = "Canlı") -> dict:
    customer = await accounts.find_or_create_customer("ayse@example.com", name="Ayşe", now=now())
    new = service.NewTicket(subject=subject, body="...", requester_id=customer["id"], notify_requester=False)
    return (await service.open_ticket(new, actor=Actor.customer(customer), now=now())).ticket


async def _next(subscriber) -> dict:
    # A guard against hanging, not a timing assertion: the event is expected at once.
    return json.loads(await asyncio.wait_for(subscriber.iter_events().__anext__(), 10))


async def test_changes_are_announced_on_the_queue_and_ticket_channels(running_app):
    plugin = running_app.plugins.get(TicketChannels)
    async with plugin.start_subscription([QUEUE]) as queue:
        ticket = await _open()
        expected = {"id": ticket["id"], "ref": "T-1001", "what": "created", "by_staff": None}
        assert await _next(queue) == expected
        async with plugin.start_subscription([f"ticket:{ticket['id']}"]) as one:
            row = await accounts.create_staff(email="elif@example.com", name="Elif", role="lead",
                                              password_hash="x", now=now())
            await changes.update(ticket["id"], {"priority": "high"}, actor=Actor.staff(row), now=now())
            assert (await _next(queue))["what"] == "fields"
            event = await _next(one)
            assert event["ref"] == "T-1001" and event["by_staff"] == row["id"]


async def test_another_process_hears_the_change_through_redis(settings):
    redis_settings = settings.with_(redis_url=REDIS_URL, redis_prefix=f"portal-test-{uuid.uuid4().hex[:8]}")
    listener_app, writer_app = create_app(redis_settings), create_app(redis_settings)
    async with listener_app.lifespan(), writer_app.lifespan():
        listener = listener_app.plugins.get(TicketChannels)
        async with listener.start_subscription([QUEUE]) as queue:
            # Until Redis itself lists the subscriber (a deadline, not a pause): a PUBLISH before
            # the SUBSCRIBE reached the server would be lost.
            redis = listener_app.state["services"].redis
            channel = f"{redis_settings.redis_prefix}:channels:{QUEUE}"
            async with asyncio.timeout(10):
                while True:
                    if (await redis.pubsub_numsub(channel))[0][1]:
                        break
                    await asyncio.sleep(0.01)
            ticket = await _open("Redis üzerinden")
            received = await _next(queue)
            assert received["ref"] == "T-1001" and received["id"] == ticket["id"]


def test_viewers_are_named_once_and_escaped():
    viewers = {"a": {"staff": 1, "name": "Me"}, "b": {"staff": 2, "name": "<b>Elif</b>"},
               "c": {"staff": 2, "name": "<b>Elif</b>"}, "d": {"staff": 3, "name": "Mert"}}
    import time

    html = viewers_html(viewers, {3: time.monotonic()}, me=1)
    assert "&lt;b&gt;Elif&lt;/b&gt;" in html and html.count("Elif") == 1 and "Me," not in html
    assert "Mert (" in html
    assert "notice" not in viewers_html({"a": {"staff": 1, "name": "Me"}}, {}, me=1)
