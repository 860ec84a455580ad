"""Customer value: RFM scores and named segments, for staff pages, routing rules and SLA policies.

Each customer with at least one counted order (any status except cancelled, returned and
refunded) gets three scores from 1 to 5:

* **R**ecency, days since their last counted order;
* **F**requency, how many counted orders they have;
* **M**onetary value, the total of those orders.

Scores use fixed, documented thresholds (``R_DAYS``, ``F_ORDERS``, ``M_TOTAL``) rather than
quintiles over all customers: a customer's segment then depends on their own orders only, so
recomputing one customer after an order change gives exactly what the nightly run gives, and
a segment does not move because somebody else bought something. See ``docs/routing.md``.

The segment is the first of ``SEGMENT_RULES`` that matches. Everything is one set-based
``INSERT … SELECT … ON CONFLICT`` (SQLite and PostgreSQL), for one customer or for all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from portal import db
from portal.i18n import N_, _
from portal.value import privacy as _privacy  # noqa: F401 - registers the KVKK export and erasure
from portal.value.tables import CustomerValue

# Ordered from the most to the least valuable: the order of lists and selectors.
SEGMENTS: tuple[str, ...] = ("champions", "loyal", "potential", "new", "at_risk", "lost")
SEGMENT_LABELS: dict[str, str] = {
    "champions": N_("Champions"),
    "loyal": N_("Loyal"),
    "potential": N_("Potential loyalists"),
    "new": N_("New customers"),
    "at_risk": N_("At risk"),
    "lost": N_("Lost"),
}
SEGMENT_HELP: dict[str, str] = {
    "champions": N_("Bought recently, often and for a lot"),
    "loyal": N_("Buy regularly and recently"),
    "potential": N_("Recent customers with a few orders"),
    "new": N_("First order within the last 90 days"),
    "at_risk": N_("Used to buy, not lately"),
    "lost": N_("No order for a year or more, few orders before"),
}

# Statuses whose orders do not count: the money did not stay with the shop.
EXCLUDED_STATUSES: tuple[str, ...] = ("cancelled", "returned", "refunded")

# Score 5 up to the first bound, 4 up to the second, …, 1 beyond the last.
R_DAYS: tuple[int, int, int, int] = (30, 90, 180, 365)
# Score 1 below the first bound, 2 from it, …, 5 from the last.
F_ORDERS: tuple[int, int, int, int] = (2, 3, 5, 10)
M_TOTAL: tuple[int, int, int, int] = (500, 1500, 5000, 15000)


def segment_label(code: str | None) -> str:
    """The segment's name in the current language ('' for no segment)."""
    return _(SEGMENT_LABELS[code]) if code in SEGMENT_LABELS else ""


def segment_choices() -> list[tuple[str, str]]:
    return [(code, _(SEGMENT_LABELS[code])) for code in SEGMENTS]


def r_score(days: int) -> int:
    for score, bound in zip((5, 4, 3, 2), R_DAYS, strict=True):
        if days <= bound:
            return score
    return 1


def _up_score(value: float, bounds: Iterable[int]) -> int:
    score = 1
    for bound in bounds:
        if value >= bound:
            score += 1
    return score


def f_score(orders: int) -> int:
    return _up_score(orders, F_ORDERS)


def m_score(total: float) -> int:
    return _up_score(total, M_TOTAL)


def segment_for(r: int, f: int, m: int) -> str:
    """The named segment of three scores: the first rule that matches (same as the SQL)."""
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if r >= 3 and f >= 3:
        return "loyal"
    if r >= 4 and f == 1:
        return "new"
    if r >= 3:
        return "potential"
    if r == 2 or f >= 3:
        return "at_risk"
    return "lost"


def _segment_sql() -> str:
    return ("CASE WHEN r >= 4 AND f >= 4 AND m >= 4 THEN 'champions' "
            "WHEN r >= 3 AND f >= 3 THEN 'loyal' "
            "WHEN r >= 4 AND f = 1 THEN 'new' "
            "WHEN r >= 3 THEN 'potential' "
            "WHEN r = 2 OR f >= 3 THEN 'at_risk' "
            "ELSE 'lost' END")


def _r_sql(column: str) -> str:
    parts = " ".join(f"WHEN {column} <= {bound} THEN {score}"
                     for score, bound in zip((5, 4, 3, 2), R_DAYS, strict=True))
    return f"CASE {parts} ELSE 1 END"


def _up_sql(column: str, bounds: Iterable[int]) -> str:
    return "(1 " + " ".join(f"+ CASE WHEN {column} >= {bound} THEN 1 ELSE 0 END" for bound in bounds) + ")"


def _days_sql() -> str:
    """Whole days from the last counted order to ``now`` (the first parameter)."""
    if db.is_sqlite():
        return "CAST(julianday({}) - julianday(MAX(o.placed_at)) AS INTEGER)"
    return "CAST(floor(extract(epoch FROM ({}::timestamptz - MAX(o.placed_at))) / 86400) AS INTEGER)"


# Counted: not cancelled, returned or refunded, and not of a deleted (anonymised) customer.
_COUNTED = ("o.status NOT IN (" + ", ".join(f"'{s}'" for s in EXCLUDED_STATUSES) + ") AND NOT EXISTS "
            "(SELECT 1 FROM customer c WHERE c.id = o.customer AND c.deleted_at IS NOT NULL)")


_SCOPES = {"one": " AND o.customer = {}", "range": " AND o.customer BETWEEN {} AND {}"}
BATCH_IDS = 10_000  # customer ids per transaction of the daily run (short write locks on SQLite)


def _upsert_sql(scope: str) -> str:
    """Parameters: now (computed_at), now (recency), then the customer id (``one``) or the
    first and last id (``range``); Piccolo turns each ``{}`` into the engine's placeholder."""
    where = _COUNTED + _SCOPES[scope]
    return (
        "INSERT INTO customer_value (customer, recency_days, frequency, monetary, r, f, m, segment, computed_at) "
        f"SELECT customer, days, n, total, r, f, m, {_segment_sql()}, {{}} FROM ("
        "  SELECT customer, days, n, total, "
        f"   {_r_sql('days')} AS r, {_up_sql('n', F_ORDERS)} AS f, {_up_sql('total', M_TOTAL)} AS m FROM ("
        f"    SELECT o.customer AS customer, {_days_sql()} AS days, COUNT(*) AS n, SUM(o.total) AS total "
        f"    FROM orders o WHERE {where} GROUP BY o.customer"
        "  ) agg"
        ") scored WHERE true "  # "WHERE true": SQLite's parser needs it before ON CONFLICT
        "ON CONFLICT (customer) DO UPDATE SET recency_days = excluded.recency_days, "
        "frequency = excluded.frequency, monetary = excluded.monetary, r = excluded.r, f = excluded.f, "
        "m = excluded.m, segment = excluded.segment, computed_at = excluded.computed_at"
    )


_DELETE_STALE = ("DELETE FROM customer_value WHERE {one} NOT EXISTS "
                 f"(SELECT 1 FROM orders o WHERE o.customer = customer_value.customer AND {_COUNTED})")


async def refresh_customer(customer_id: int, *, now: datetime) -> str | None:
    """Recompute one customer after their orders changed; their segment now, or None.

    Runs inside the caller's transaction when there is one (the order change), so the score
    commits or rolls back with it.
    """
    await CustomerValue.raw(_upsert_sql("one"), now, now, customer_id)
    await CustomerValue.raw(_DELETE_STALE.format(one="customer_value.customer = {} AND"), customer_id)
    return await segment_of(customer_id)


async def refresh_all(*, now: datetime) -> int:
    """Recompute every customer with orders (the daily run); the row count. Set-based: one
    statement per ``BATCH_IDS`` customer ids, each in its own short transaction, then one
    delete of the rows whose customer has no counted order left."""
    bounds = await CustomerValue.raw("SELECT MIN(customer) AS lo, MAX(customer) AS hi FROM orders")
    lo, hi = (bounds[0]["lo"], bounds[0]["hi"]) if bounds else (None, None)
    if lo is not None:
        for start in range(int(lo), int(hi) + 1, BATCH_IDS):
            async with db.transaction():
                await CustomerValue.raw(_upsert_sql("range"), now, now, start, start + BATCH_IDS - 1)
    async with db.transaction():
        await CustomerValue.raw(_DELETE_STALE.format(one=""))
    return await CustomerValue.count()


REFRESH_EVERY = timedelta(hours=23)


async def refresh_due(now: datetime) -> bool:
    """Whether the daily run is due: some customer's scores are older than a day, or a
    customer with counted orders has none yet. Each worker asks this in its hourly housekeeping;
    two workers that both find it due both run it, harmlessly (the same result)."""
    oldest = await CustomerValue.raw("SELECT MIN(computed_at) AS t FROM customer_value")
    stamp = oldest[0]["t"] if oldest else None
    if stamp is None:
        return await CustomerValue.raw("SELECT 1 AS x FROM orders LIMIT 1") != []
    if isinstance(stamp, str):  # SQLite gives the stored text for an aggregate
        stamp = datetime.fromisoformat(stamp)
    return stamp < now - REFRESH_EVERY


async def segment_of(customer_id: int | None) -> str | None:
    """The customer's segment code (one of ``SEGMENTS``), or None without counted orders."""
    if not customer_id:
        return None
    row = await CustomerValue.select(CustomerValue.segment).where(
        CustomerValue.customer == customer_id).first()
    return row["segment"] if row else None


async def value_of(customer_id: int | None) -> dict | None:
    """The customer's whole RFM row (scores, figures, segment, label), or None."""
    if not customer_id:
        return None
    row = await CustomerValue.select().where(CustomerValue.customer == customer_id).first()
    if row is None:
        return None
    row["segment_label"] = segment_label(row["segment"])
    return row


async def segment_counts() -> dict[str, int]:
    rows = await CustomerValue.raw("SELECT segment, COUNT(*) AS n FROM customer_value GROUP BY segment")
    counts = {code: 0 for code in SEGMENTS}
    counts.update({r["segment"]: r["n"] for r in rows})
    return counts
