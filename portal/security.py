"""Passwords, link tokens and security headers.

argon2id costs about 140 ms of CPU per hash here, so hashing runs in a few dedicated worker
threads (argon2-cffi releases the GIL): a burst of log-ins queues for the hasher instead of
starving every other page of the event loop. On Linux those threads also run at a lower
scheduling priority (``HASHING_NICENESS``, per thread; argon2's own lane threads inherit
it), so while pages are being served most of the CPU goes to them and a burst of log-ins
slows log-ins rather than the order page (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

T = TypeVar("T")

# The hashing threads' nice value (``PORTAL_HASH_NICENESS``, default 19). Under CPU contention
# the kernel shares the CPU by weight: a process's event loop (nice 0) weighs 1024, each of
# argon2's four lane threads 15 at nice 19 (36 at 15, 110 at 10), so two hashes at once leave
# the pages about 88% of the CPU. Measured on 2 cores with 50 log-ins beside the order page
# (python -m bench.login_burst): p99 ×1.8 at nice 19, ×2.4 at 15, ×17 at 0. A machine that
# is busy for long stretches (a test run) may want 10, so log-ins are not starved.
HASHING_NICENESS = 19


def lower_thread_priority(niceness: int = HASHING_NICENESS) -> None:
    """Lower the calling thread's priority, and only this thread's (Linux keeps a nice value
    per thread; ``PRIO_PROCESS`` with a thread id names one). Threads it starts inherit it."""
    if sys.platform.startswith("linux"):  # elsewhere the id would name a whole process
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


class Passwords:
    def __init__(self, *, time_cost: int = 3, memory_cost: int = 65536, concurrency: int = 2,
                 niceness: int = HASHING_NICENESS) -> None:
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
        # At most ``concurrency`` hashes at a time (the others queue), in low-priority threads,
        # made when first needed.
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="portal-hash", initializer=lower_thread_priority,
            initargs=(niceness,),
        )
        # Verified against when the account does not exist, so both answers take the same time.
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` in one of the hashing threads (queued while all are busy)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def hash(self, password: str) -> str:
        return await self.run(self.hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> tuple[bool, str | None]:
        """Return (ok, new_hash). ``new_hash`` is set when the stored hash used old parameters."""
        target = stored_hash or self._dummy

        def check() -> tuple[bool, str | None]:
            try:
                self.hasher.verify(target, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False, None
            if stored_hash is None:
                return False, None
            if self.hasher.check_needs_rehash(stored_hash):
                return True, self.hasher.hash(password)
            return True, None

        return await self.run(check)


def new_token(nbytes: int = 32) -> str:
    """An unguessable URL-safe token for links in e-mails (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """Link and API tokens are stored as SHA-256: a leaked table gives no working link."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def sign(secret: str, *parts: str) -> str:
    msg = "\x1f".join(parts).encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def constant_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)


def security_headers(*, https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
    return headers


async def sleep_jitter() -> None:
    """A short random pause for answers that must not reveal timing."""
    await asyncio.sleep(secrets.randbelow(20) / 1000)
