"""Building orders in tests (through the service, as the API and the importer do)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from portal.clock import now
from portal.orders import service

ISTANBUL = timezone(timedelta(hours=3))


def sample_order(number: str = "SP-10042", email: str = "alice@example.com",
                 **changes: Any) -> service.OrderData:
    data = service.OrderData(
        number=number, email=email, name="Alice Yılmaz", phone="+905321234567",
        shipping_address="Bağdat Caddesi 12/3\nKadıköy İstanbul",
        items=(service.Item(name="Çelik Termos 1L", quantity=2, unit_price=Decimal("349.90"), sku="KLM-01"),
               service.Item(name="Kamp Sandalyesi", quantity=1, unit_price=Decimal("1234.56"), sku="KMP-07")),
        total=Decimal("1934.36"), status="received",
        placed_at=datetime(2026, 11, 22, 10, 15, tzinfo=ISTANBUL),
        carrier="yurtici", tracking_number="YK123456789",
    )
    return replace(data, **changes)


async def create_order(number: str = "SP-10042", email: str = "alice@example.com", **changes: Any) -> int:
    outcome = await service.upsert_order(sample_order(number, email, **changes), actor="test", now=now())
    return outcome.order_id
