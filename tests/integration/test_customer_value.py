"""RFM scores and segments from known orders, on both databases: each segment, the nightly
run matching the per-customer one, and recomputation when orders change."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portal.accounts.tables import Customer
from portal.orders import service as orders
from portal.orders.service import Change
from portal.value import service as value
from portal.value.tables import CustomerValue
from tests.order_fixtures import sample_order

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


async def buy(email: str, n: int, *, days_ago: int, each: str, prefix: str, status: str = "delivered") -> None:
    """``n`` orders of ``each`` TRY, the latest ``days_ago`` days before NOW."""
    for i in range(n):
        data = sample_order(f"{prefix}-{i}", email, total=Decimal(each), status=status,
                            placed_at=NOW - timedelta(days=days_ago + 40 * i))
        await orders.upsert_order(data, actor="test", now=NOW, notify=False)


async def customer_id(email: str) -> int:
    return (await Customer.select(Customer.id).where(Customer.email == email).first())["id"]


def test_scores_and_segments_are_pure_and_documented():
    assert [value.r_score(d) for d in (0, 30, 31, 90, 180, 365, 366)] == [5, 5, 4, 4, 3, 2, 1]
    assert [value.f_score(n) for n in (1, 2, 3, 4, 5, 9, 10, 50)] == [1, 2, 3, 3, 4, 4, 5, 5]
    assert [value.m_score(t) for t in (0, 499.99, 500, 1500, 5000, 15000)] == [1, 1, 2, 3, 4, 5]
    assert value.segment_for(5, 5, 5) == "champions"
    assert value.segment_for(4, 4, 3) == "loyal"
    assert value.segment_for(5, 1, 1) == "new"
    assert value.segment_for(3, 1, 1) == "potential"
    assert value.segment_for(4, 2, 2) == "potential"
    assert value.segment_for(2, 1, 1) == "at_risk"
    assert value.segment_for(1, 4, 4) == "at_risk"
    assert value.segment_for(1, 1, 5) == "lost"
    # Every combination lands in a known segment.
    combos = {value.segment_for(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert combos == set(value.SEGMENTS)


SHOPPERS = [
    # email, orders, days since the last, each total, expected segment
    ("champ@example.com", 6, 5, "3000", "champions"),
    ("loyal@example.com", 3, 60, "400", "loyal"),
    ("potential@example.com", 2, 100, "300", "potential"),
    ("new@example.com", 1, 10, "200", "new"),
    ("risk@example.com", 1, 200, "900", "at_risk"),
    ("lost@example.com", 1, 500, "100", "lost"),
]


async def test_each_segment_from_known_orders(running_app):
    for email, n, days, each, _segment in SHOPPERS:
        await buy(email, n, days_ago=days, each=each, prefix=email.split("@")[0].upper())
    for email, n, days, each, segment in SHOPPERS:
        cid = await customer_id(email)
        assert await value.segment_of(cid) == segment, email
        row = await value.value_of(cid)
        assert row["frequency"] == n
        assert Decimal(row["monetary"]) == Decimal(each) * n
        # The last order was days_ago days before NOW but the row was computed at each order's
        # insert with now=NOW, so recency is exact.
        assert row["recency_days"] == days
    assert await value.segment_of(None) is None
    assert await value.segment_of(999999) is None


async def test_nightly_run_gives_the_same_answer_and_ages_customers(running_app):
    for email, n, days, each, _segment in SHOPPERS:
        await buy(email, n, days_ago=days, each=each, prefix=email.split("@")[0].upper())
    before = {r["customer"]: (r["r"], r["f"], r["m"], r["segment"]) for r in await CustomerValue.select()}
    assert await value.refresh_all(now=NOW) == len(SHOPPERS)
    after = {r["customer"]: (r["r"], r["f"], r["m"], r["segment"]) for r in await CustomerValue.select()}
    assert after == before
    # A year later nobody has bought: the new customer is lost, the champion at risk.
    await value.refresh_all(now=NOW + timedelta(days=400))
    assert await value.segment_of(await customer_id("new@example.com")) == "lost"
    assert await value.segment_of(await customer_id("champ@example.com")) == "at_risk"
    counts = await value.segment_counts()
    assert sum(counts.values()) == len(SHOPPERS) and list(counts) == list(value.SEGMENTS)


async def test_recomputed_when_orders_change(running_app):
    await buy("new@example.com", 1, days_ago=3, each="200", prefix="N")
    cid = await customer_id("new@example.com")
    assert await value.segment_of(cid) == "new"
    await buy("new@example.com", 5, days_ago=1, each="4000", prefix="M")  # six orders, 20,200 TRY
    assert await value.segment_of(cid) == "champions"
    row = await value.value_of(cid)
    assert (row["f"], row["m"], row["frequency"]) == (4, 5, 6)
    # Cancelling orders takes them out of the count, through the status change.
    for i in range(5):
        await orders.change_order(f"M-{i}", Change(status="cancelled"), actor="t", now=NOW, notify=False)
    assert await value.segment_of(cid) == "new"
    await orders.change_order("N-0", Change(status="refunded"), actor="t", now=NOW, notify=False)
    assert await value.segment_of(cid) is None  # nothing counts: no row at all
    assert await CustomerValue.count().where(CustomerValue.customer == cid) == 0


async def test_an_order_moved_to_another_customer_rescores_both(running_app):
    await buy("a@example.com", 3, days_ago=2, each="100", prefix="X")
    a = await customer_id("a@example.com")
    assert await value.segment_of(a) == "loyal"
    data = sample_order("X-0", "b@example.com", total=Decimal("100"), status="delivered",
                        placed_at=NOW - timedelta(days=2))
    await orders.upsert_order(data, actor="test", now=NOW, notify=False)
    b = await customer_id("b@example.com")
    assert (await value.value_of(a))["frequency"] == 2
    assert await value.segment_of(b) == "new"


@pytest.mark.parametrize("locale, label", [("tr", None), ("en", "Champions")])
def test_labels_are_translatable(locale, label):
    from portal.i18n import use_locale

    with use_locale(locale):
        assert value.segment_label("champions")
        assert value.segment_label(None) == ""
        if label:
            assert value.segment_label("champions") == label
        assert [c for c, _ in value.segment_choices()] == list(value.SEGMENTS)


async def test_the_worker_refreshes_everyone_once_a_day(running_app, settings):
    from portal.jobs.worker import Worker

    await buy("new@example.com", 1, days_ago=10, each="200", prefix="N")
    cid = await customer_id("new@example.com")
    assert not await value.refresh_due(NOW)
    later = NOW + timedelta(days=100)
    assert await value.refresh_due(later)
    await Worker(settings).housekeeping(later)
    assert await value.segment_of(cid) == "potential"  # 110 days since the only order
    assert (await value.value_of(cid))["recency_days"] == 110
    assert not await value.refresh_due(later + timedelta(hours=1))


async def test_the_daily_run_in_small_batches_gives_the_same_answer(running_app, monkeypatch):
    for email, n, days, each, _segment in SHOPPERS:
        await buy(email, n, days_ago=days, each=each, prefix=email.split("@")[0].upper())
    await CustomerValue.delete(force=True)
    monkeypatch.setattr(value, "BATCH_IDS", 2)
    assert await value.refresh_all(now=NOW) == len(SHOPPERS)
    for email, *_rest, segment in SHOPPERS:
        assert await value.segment_of(await customer_id(email)) == segment


async def test_kvkk_export_and_deletion(running_app):
    from portal.accounts import service as accounts

    await buy("new@example.com", 1, days_ago=3, each="200", prefix="N")
    cid = await customer_id("new@example.com")
    exported = await accounts.export_customer(cid)
    assert exported["customer_value"]["segment"] == "new" and exported["customer_value"]["monetary"] == "200.00"
    await accounts.delete_account(cid, now=NOW)
    assert await value.segment_of(cid) is None
    await value.refresh_all(now=NOW)  # the orders stay, but a deleted customer is not profiled again
    await orders.change_order("N-0", Change(status="returned"), actor="t", now=NOW, notify=False)
    await orders.change_order("N-0", Change(status="delivered"), actor="t", now=NOW, notify=False)
    assert await value.segment_of(cid) is None
    assert "customer_value" not in await accounts.export_customer(cid)


async def test_the_daily_check_has_an_index_to_read(running_app, settings):
    """``refresh_due`` asks MIN(computed_at) every hour on every worker: an index answers it."""
    if settings.is_sqlite:
        rows = await CustomerValue.raw(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customer_value'")
        names = {r["name"] for r in rows}
        plan = await CustomerValue.raw("EXPLAIN QUERY PLAN SELECT MIN(computed_at) FROM customer_value")
        assert any("customer_value_computed_at" in r["detail"] for r in plan), plan
    else:
        rows = await CustomerValue.raw("SELECT indexname FROM pg_indexes WHERE tablename = 'customer_value'")
        names = {r["indexname"] for r in rows}
    assert "customer_value_computed_at" in names
