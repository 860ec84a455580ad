"""The benchmark's data (``bench.dataset``, used by ``python -m bench``) at a tiny scale on both
engines: the rows it promises, the heavy tickets, the burst accounts, the recorded scale that
``--reuse`` relies on, and a database set up a second time keeping its data."""

from __future__ import annotations

import io

from rich.console import Console

from bench import dataset
from bench.dataset import Scale
from bench.servers import set_up
from bench.setup_db import EMAIL

TINY = Scale("tiny", customers=60, orders=120, tickets=100, articles=20, heavy=3)


def engine_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


def test_tiny_dataset_has_the_promised_rows(database_url, tmp_path):
    engine = engine_of(database_url)
    set_up(engine, database_url, tmp_path)  # migrated, the benchmark customer
    assert dataset.recorded_scale(engine, database_url) is None

    dataset.generate(engine, database_url, tmp_path, TINY, Console(file=io.StringIO()))

    # Open tickets are every tenth from T-1; the first `heavy` of them carry 50 messages, the
    # others 1 + number % 9.
    heavy = {10 * k + 1 for k in range(TINY.heavy)}
    messages = sum(50 if i in heavy else 1 + i % 9 for i in range(1, TINY.tickets + 1))
    assert dataset.counts(engine, database_url) == {
        "customers": TINY.customers,
        "orders": TINY.orders,
        "tickets": TINY.tickets,
        "messages": messages,
        "articles": TINY.articles,
    }
    assert dataset.fetch_value(engine, database_url,
                               "SELECT COUNT(*) FROM ticket_message WHERE ticket = 1") == 50  # fmt: skip
    # Every ticket's requester is one of the customers (they are not made twice).
    assert dataset.fetch_value(
        engine, database_url,
        "SELECT COUNT(*) FROM ticket WHERE requester NOT IN (SELECT id FROM customer)",
    ) == 0  # fmt: skip
    # The burst accounts can log in with the benchmark customer's password.
    bench_hash = dataset.fetch_value(engine, database_url,
                                     f"SELECT password_hash FROM customer WHERE email = '{EMAIL}'")  # fmt: skip
    burst = [dataset.burst_email(k) for k in range(dataset.BURST_ACCOUNTS)]
    quoted = ", ".join(f"'{e}'" for e in burst)
    assert dataset.fetch_value(
        engine, database_url,
        f"SELECT COUNT(*) FROM customer WHERE email IN ({quoted}) AND email_verified_at IS NOT NULL "
        f"AND password_hash = '{bench_hash}'",
    ) == dataset.BURST_ACCOUNTS  # fmt: skip
    assert dataset.recorded_scale(engine, database_url) == "tiny"
    if engine == "postgres" and dataset.fetch_value(engine, database_url,
                                                    "SELECT to_regclass('ticket_number_seq') IS NOT NULL"):
        # The app's next ticket number (1000 + nextval) is past the generated ones.
        assert dataset.fetch_value(engine, database_url, "SELECT 1000 + nextval('ticket_number_seq') > "
                                                         "(SELECT MAX(number) FROM ticket)")  # fmt: skip

    # --reuse: setting the database up again migrates it and keeps every row.
    set_up(engine, database_url, tmp_path)
    assert dataset.counts(engine, database_url)["tickets"] == TINY.tickets
    assert dataset.recorded_scale(engine, database_url) == "tiny"
