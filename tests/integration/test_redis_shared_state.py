"""With PORTAL_REDIS_URL, sessions and rate limits are shared by every server process."""

import uuid

import pytest

from portal.app import create_app
from portal.throttle import MemoryThrottle
from tests.conftest import PASSWORD, make_client

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_settings(settings):
    return settings.with_(redis_url=REDIS_URL, redis_prefix=f"portal-test-{uuid.uuid4().hex[:8]}")


async def _start(app):
    import asyncio

    started, stop = asyncio.Event(), asyncio.Event()

    async def run():
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(run())
    await started.wait()
    return stop, task


async def test_a_session_made_on_one_process_works_on_another(redis_settings):
    first, second = create_app(redis_settings), create_app(redis_settings)
    stop1, task1 = await _start(first)
    stop2, task2 = await _start(second)
    try:
        from tests.conftest import _customer

        alice = await _customer(first, f"alice-{uuid.uuid4().hex[:6]}@example.com", "Alice")
        async with make_client(first) as one, make_client(second) as two:
            response = await one.post_form("/login", {"email": alice.email, "password": PASSWORD})
            assert response.status_code == 303
            two.cookies.update(one.cookies)
            account = await two.get("/account")
            assert account.status_code == 200
            assert alice.email in account.text
            # and a log-out on the second process ends it for the first too (same session id)
            await two.post_form("/logout")
            assert (await one.get("/account")).status_code == 303
    finally:
        stop1.set(), stop2.set()
        await task1, await task2


async def test_a_rate_limit_counts_across_processes(redis_settings):
    first, second = create_app(redis_settings), create_app(redis_settings)
    assert not isinstance(first.state["services"].throttle, MemoryThrottle)
    stop1, task1 = await _start(first)
    stop2, task2 = await _start(second)
    try:
        email = f"nobody-{uuid.uuid4().hex[:6]}@example.com"
        async with make_client(first) as one, make_client(second) as two:
            for i in range(5):
                client = one if i % 2 == 0 else two
                r = await client.post_form("/login", {"email": email, "password": "wrong password!"})
                assert r.status_code == 422
            blocked = await two.post_form("/login", {"email": email, "password": "wrong password!"})
            assert blocked.status_code == 429
            assert int(blocked.headers["retry-after"]) > 0
    finally:
        stop1.set(), stop2.set()
        await task1, await task2


async def _subscribed(redis, channel: str) -> None:
    """Until Redis itself lists a subscriber of ``channel`` (a deadline, not a pause)."""
    import asyncio

    async with asyncio.timeout(10):
        while True:
            if (await redis.pubsub_numsub(channel))[0][1]:
                return
            await asyncio.sleep(0.01)


async def test_live_updates_stay_within_their_prefix(settings):
    """Two portals on one Redis (another prefix) do not hear each other's ticket changes."""
    import asyncio
    import json

    from portal.staff.live import QUEUE, TicketChannels

    mine = settings.with_(redis_url=REDIS_URL, redis_prefix=f"portal-test-{uuid.uuid4().hex[:8]}")
    other = mine.with_(redis_prefix=f"portal-test-{uuid.uuid4().hex[:8]}")
    listener_app, other_app, same_app = create_app(mine), create_app(other), create_app(mine)
    async with listener_app.lifespan(), other_app.lifespan(), same_app.lifespan():
        listener = listener_app.plugins.get(TicketChannels)
        async with listener.start_subscription([QUEUE]) as queue:
            redis = listener_app.state["services"].redis
            await _subscribed(redis, f"{mine.redis_prefix}:channels:{QUEUE}")
            # Published one after the other, each confirmed by Redis: a subscriber of both
            # would get the other portal's event first.
            await other_app.plugins.get(TicketChannels).wait_published({"ref": "T-OTHER"}, QUEUE)
            await same_app.plugins.get(TicketChannels).wait_published({"ref": "T-MINE"}, QUEUE)
            first = await asyncio.wait_for(queue.iter_events().__anext__(), 10)
            assert json.loads(first) == {"ref": "T-MINE"}


async def test_a_worker_process_announces_ticket_changes_through_redis(settings):
    """``portal worker`` has no web app: with Redis, its ticket changes (SLA breaches, closed
    tickets) are published for the live pages of the server processes all the same."""
    import asyncio
    import json

    from redis.asyncio import Redis

    from portal.staff.live import announce_through_redis
    from portal.tickets import signals

    mine = settings.with_(redis_url=REDIS_URL, redis_prefix=f"portal-test-{uuid.uuid4().hex[:8]}")
    client = Redis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(f"{mine.redis_prefix}:channels:tickets", f"{mine.redis_prefix}:channels:ticket:7")
        await _subscribed(client, f"{mine.redis_prefix}:channels:ticket:7")
        async with announce_through_redis(mine, client):
            signals.announce({"id": 7, "number": 1007}, "status")
        heard = {}
        async with asyncio.timeout(10):
            while len(heard) < 2:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message:
                    heard[message["channel"].decode()] = json.loads(message["data"])
        expected = {"id": 7, "ref": "T-1007", "what": "status", "by_staff": None}
        assert heard == {f"{mine.redis_prefix}:channels:tickets": expected,
                         f"{mine.redis_prefix}:channels:ticket:7": expected}
    finally:
        await pubsub.aclose()
        await client.aclose()


async def test_a_burst_of_worker_announcements_all_arrive_in_order(settings):
    """A batch of SLA alerts announces hundreds of tickets at once: each one reaches the queue
    channel, in order, over a bounded number of Redis connections (the pool allows 100)."""
    import asyncio
    import json

    from redis.asyncio import Redis

    from portal.staff.live import announce_through_redis
    from portal.tickets import signals

    mine = settings.with_(redis_url=REDIS_URL, redis_prefix=f"portal-test-{uuid.uuid4().hex[:8]}")
    listener, publisher = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    pubsub = listener.pubsub()
    try:
        await pubsub.subscribe(f"{mine.redis_prefix}:channels:tickets")
        await _subscribed(listener, f"{mine.redis_prefix}:channels:tickets")
        async with announce_through_redis(mine, publisher):
            for k in range(250):
                signals.announce({"id": k + 1, "number": 1001 + k}, "status")
        heard = []
        async with asyncio.timeout(20):
            while len(heard) < 250:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message:
                    heard.append(json.loads(message["data"])["ref"])
        assert heard == [f"T-{1001 + k}" for k in range(250)]
        assert len(publisher.connection_pool._available_connections) + len(
            publisher.connection_pool._in_use_connections) <= 2
    finally:
        await pubsub.aclose()
        await listener.aclose()
        await publisher.aclose()
