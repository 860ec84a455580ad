"""portal.security.Passwords: argon2id hashing off the event loop, verification that never
raises, and re-hashing when the cost parameters change."""

import asyncio
import hashlib
import os
import sys
import threading

import pytest
from argon2 import PasswordHasher

from portal.security import HASHING_NICENESS, Passwords, new_token, token_hash

# Cheap parameters: these tests are about behaviour, not cost.
OLD = {"time_cost": 1, "memory_cost": 64}
NEW = {"time_cost": 2, "memory_cost": 128}


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(**OLD)


async def test_hash_then_verify(passwords):
    stored = await passwords.hash("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert await passwords.verify(stored, "correct horse battery") == (True, None)


async def test_the_same_password_hashes_differently_each_time(passwords):
    assert await passwords.hash("same password") != await passwords.hash("same password")


@pytest.mark.parametrize("attempt", ["wrong", "", "correct horse batter", "correct horse battery ",
                                     "CORRECT HORSE BATTERY"])
async def test_wrong_passwords_fail(passwords, attempt):
    stored = await passwords.hash("correct horse battery")
    assert await passwords.verify(stored, attempt) == (False, None)


@pytest.mark.parametrize("stored", [None, "", "not a hash", "$argon2id$v=19$m=64,t=1,p=4$garbage"])
async def test_missing_or_broken_hashes_fail_without_raising(passwords, stored):
    assert await passwords.verify(stored, "anything") == (False, None)


async def test_no_account_still_does_the_work(passwords):
    # An unknown address is checked against a dummy hash, so it costs the same time; it
    # must never succeed, not even with the empty password.
    assert await passwords.verify(None, "") == (False, None)


async def test_unicode_passwords(passwords):
    stored = await passwords.hash("İstanbul'da ılık bir gün")
    assert (await passwords.verify(stored, "İstanbul'da ılık bir gün"))[0]
    assert not (await passwords.verify(stored, "istanbul'da ılık bir gün"))[0]


async def test_a_hash_with_old_parameters_is_rehashed_on_success():
    old_hash = await Passwords(**OLD).hash("correct horse battery")
    current = Passwords(**NEW)
    ok, new_hash = await current.verify(old_hash, "correct horse battery")
    assert ok
    assert new_hash is not None and new_hash != old_hash
    assert "m=128,t=2" in new_hash and "m=64,t=1" in old_hash
    assert not current.hasher.check_needs_rehash(new_hash)
    assert await current.verify(new_hash, "correct horse battery") == (True, None)


async def test_a_wrong_password_is_never_rehashed():
    old_hash = await Passwords(**OLD).hash("correct horse battery")
    assert await Passwords(**NEW).verify(old_hash, "wrong") == (False, None)


async def test_a_hash_from_another_argon2_variant_is_upgraded():
    from argon2 import Type

    argon2i = PasswordHasher(time_cost=1, memory_cost=64, type=Type.I).hash("pw-pw-pw-pw")
    ok, new_hash = await Passwords(**OLD).verify(argon2i, "pw-pw-pw-pw")
    assert ok and new_hash and new_hash.startswith("$argon2id$")


async def test_current_parameters_need_no_rehash(passwords):
    stored = await passwords.hash("pw-pw-pw-pw")
    assert await passwords.verify(stored, "pw-pw-pw-pw") == (True, None)


def _thread_and_niceness() -> tuple[int, int]:
    tid = threading.get_native_id()
    return tid, os.getpriority(os.PRIO_PROCESS, tid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice values per thread are Linux's")
async def test_hashing_runs_in_low_priority_threads_and_leaves_the_event_loop_alone(passwords):
    loop_thread_before = _thread_and_niceness()
    tid, niceness = await passwords.run(_thread_and_niceness)
    assert tid != loop_thread_before[0]
    assert niceness == HASHING_NICENESS  # pages get the CPU first; a log-in takes what is left
    assert _thread_and_niceness() == loop_thread_before  # only the hashing thread was lowered
    stored = await passwords.hash("pw-pw-pw-pw")  # and hashing itself runs there
    assert await passwords.verify(stored, "pw-pw-pw-pw") == (True, None)


async def test_no_more_hashes_at_once_than_the_concurrency():
    one_at_a_time = Passwords(**OLD, concurrency=1)
    threads = await asyncio.gather(*(one_at_a_time.run(threading.get_native_id) for _ in range(6)))
    assert len(set(threads)) == 1  # one hashing thread: the others queued for it


def test_link_tokens_are_long_random_and_stored_as_sha256():
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert len(token) >= 43  # 256 bits, URL-safe base64
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token_hash(token) != token_hash(token + "x")


async def test_the_hashing_priority_is_a_setting():
    from portal.settings import Settings

    assert Settings.from_env({"PORTAL_SECRET_KEY": "x" * 40, "PORTAL_HASH_NICENESS": "10"}).hash_niceness == 10
    passwords = Passwords(time_cost=1, memory_cost=64, niceness=10)
    _tid, niceness = await passwords.run(_thread_and_niceness)
    if sys.platform.startswith("linux"):
        assert niceness == 10
