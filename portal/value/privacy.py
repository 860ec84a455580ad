"""Customer value in the data download and account deletion (KVKK/GDPR): the RFM row is
profiling of the person, so it is exported, and deleted when the account is (the daily run
and order changes skip deleted customers, so it does not come back)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from portal.accounts import service as accounts
from portal.value.tables import CustomerValue


@accounts.register_exporter
async def export_value(customer_id: int) -> dict:
    row = await CustomerValue.select(
        CustomerValue.segment, CustomerValue.r, CustomerValue.f, CustomerValue.m, CustomerValue.recency_days,
        CustomerValue.frequency, CustomerValue.monetary, CustomerValue.computed_at,
    ).where(CustomerValue.customer == customer_id).first()
    if row is None:
        return {}
    return {"customer_value": {**row, "monetary": str(Decimal(row["monetary"]).quantize(Decimal("0.01"))),
                               "computed_at": row["computed_at"].isoformat()}}


@accounts.register_eraser
async def erase_value(customer_id: int, *, now: datetime) -> None:
    await CustomerValue.delete().where(CustomerValue.customer == customer_id)
