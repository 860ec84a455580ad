"""Counting attempts per key in a time window (log-in, track, forms).

In one process the counts live in memory; with ``PORTAL_REDIS_URL`` they live in Redis
(``INCR`` + ``EXPIRE``), so a limit counts across every server process.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends


class Throttle(Protocol):
    async def hit(self, key: str, limit: int, window: int) -> Verdict: ...
    async def peek(self, key: str, limit: int, window: int) -> Verdict: ...
    async def reset(self, key: str) -> None: ...


class MemoryThrottle:
    def __init__(self, clock=time.monotonic) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._clock = clock

    def _current(self, key: str, window: int) -> tuple[int, float]:
        now = self._clock()
        count, start = self._counts.get(key, (0, now))
        if now - start >= window:
            count, start = 0, now
        if len(self._counts) > 100_000:
            self._sweep(now, window)
        return count, start

    def _sweep(self, now: float, window: int) -> None:
        for k, (_c, start) in list(self._counts.items()):
            if now - start >= window:
                del self._counts[k]

    async def hit(self, key: str, limit: int, window: int) -> Verdict:
        count, start = self._current(key, window)
        count += 1
        self._counts[key] = (count, start)
        retry = max(1, math.ceil(window - (self._clock() - start)))
        return Verdict(count <= limit, count, retry)

    async def peek(self, key: str, limit: int, window: int) -> Verdict:
        count, start = self._current(key, window)
        retry = max(1, math.ceil(window - (self._clock() - start)))
        return Verdict(count < limit, count, retry)

    async def reset(self, key: str) -> None:
        self._counts.pop(key, None)


class RedisThrottle:
    def __init__(self, client, prefix: str = "portal") -> None:  # client: redis.asyncio.Redis
        self.redis = client
        self.prefix = f"{prefix}:throttle:"

    async def hit(self, key: str, limit: int, window: int) -> Verdict:
        k = self.prefix + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(k)
            pipe.expire(k, window, nx=True)
            pipe.ttl(k)
            count, _set, ttl = await pipe.execute()
        return Verdict(count <= limit, count, max(1, ttl if ttl and ttl > 0 else window))

    async def peek(self, key: str, limit: int, window: int) -> Verdict:
        k = self.prefix + key
        raw, ttl = await self.redis.get(k), await self.redis.ttl(k)
        count = int(raw or 0)
        return Verdict(count < limit, count, max(1, ttl if ttl and ttl > 0 else window))

    async def reset(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)
