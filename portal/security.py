"""Passwords, link tokens and security headers.

argon2id costs about 140 ms of CPU per hash here, so hashing runs in worker threads
(argon2-cffi releases the GIL) behind a small semaphore: a burst of log-ins queues for the
hasher instead of starving every other page of the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Passwords:
    def __init__(self, *, time_cost: int = 3, memory_cost: int = 65536, concurrency: int = 2) -> None:
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
        self._limiter = anyio.CapacityLimiter(concurrency)
        # Verified against when the account does not exist, so both answers take the same time.
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self.hasher.hash, password, limiter=self._limiter)

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

        return await anyio.to_thread.run_sync(check, limiter=self._limiter)


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
