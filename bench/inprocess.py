"""Run in its own process by the harness (``python -m bench.inprocess``): the cost of one request
inside the application, without a server or a network: raw ASGI calls, one after the other.

This is what the wrk figures cannot show: how much of a page is the framework, the session,
the query and the template. Prints one JSON line of microseconds per request.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import traceback
from typing import Any

REPEATS = 5
CALLS = 300


async def call(app: Any, path: str, cookie: str | None = None, *, query_string: str = "",
               headers: tuple[tuple[bytes, bytes], ...] = ()) -> int:
    """One GET through the ASGI app, without a server; returns the status."""
    sent = [(b"host", b"127.0.0.1"), (b"user-agent", b"bench"), *headers]
    if cookie:
        sent.append((b"cookie", cookie.encode()))  # a whole Cookie header
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query_string.encode(), "root_path": "",
        "headers": sent,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip
    status: list[int] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def per_request_us(app: Any, path: str, cookie: str | None = None) -> float:
    for _ in range(50):  # warm caches (templates, statements)
        status = await call(app, path, cookie)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(CALLS):
            await call(app, path, cookie)
        times.append((time.perf_counter() - started) / CALLS * 1e6)
    return statistics.median(times)


async def main(email: str, password: str) -> dict[str, float]:
    import httpx

    from bench.bare import create_app as bare_app
    from portal.app import create_app

    out = {"bare /plaintext": await per_request_us(bare_app(), "/plaintext")}
    app = create_app()
    async with app.lifespan():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as c:
            await c.get("/login")
            form = {"_csrf_token": c.cookies["portal_csrf"], "email": email, "password": password}
            if (await c.post("/login", data=form)).status_code != 303:
                raise RuntimeError("log-in failed")
            cookie = f"portal_session={c.cookies['portal_session']}; portal_csrf={c.cookies['portal_csrf']}"
        out["/ (home)"] = await per_request_us(app, "/")
        out["/login (GET)"] = await per_request_us(app, "/login")
        out["/account (logged in)"] = await per_request_us(app, "/account", cookie)
        out["/healthz"] = await per_request_us(app, "/healthz")
    return out


if __name__ == "__main__":
    try:
        result = asyncio.run(main(sys.argv[1], sys.argv[2]))
        print("INPROCESS " + json.dumps(result), flush=True)
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        os._exit(1)
