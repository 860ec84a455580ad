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
