"""Demo orders: every status, for the demo customers, with Turkish carriers and products.

Each order is created as ``received`` and then walked along its path with back-dated changes,
so its timeline looks lived-in. Orders that already exist are left alone (loading twice
changes nothing), and no mail is queued: the demo customers did not really buy anything.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from portal.clock import now
from portal.orders import service
from portal.orders.service import FLOW, Change, Item, OrderData
from portal.orders.tables import Order
from portal.security import Passwords
from portal.settings import Settings

PRODUCTS = [
    ("KLM-01", "Çelik Termos 1L", "349.90"), ("KMP-07", "Katlanır Kamp Sandalyesi", "1234.56"),
    ("BT-220", "Bluetooth Kulaklık", "899.00"), ("KHV-05", "Türk Kahvesi Makinesi", "2499.90"),
    ("CAY-12", "Çay Bardağı Seti (6'lı)", "149.40"), ("DFT-3", "Deri Kapaklı Defter", "129.90"),
    ("HAV-9", "Pamuklu Havlu Seti", "459.00"), ("LMB-2", "Masa Lambası", "689.00"),
    ("SRT-44", "Sırt Çantası 30L", "1149.00"), ("ZYT-1", "Sızma Zeytinyağı 2L", "579.90"),
    ("LKM-8", "Lokum Kutusu 500 g", "219.00"), ("TNC-3", "Bakır Cezve", "389.00"),
]

# number, customer e-mail, final status, days ago, carrier, item indexes
ORDERS = [
    ("SP-10001", "ayse@example.com", "delivered", 24, "yurtici", (0, 1)),
    ("SP-10002", "ayse@example.com", "shipped", 3, "aras", (2,)),
    ("SP-10003", "ayse@example.com", "received", 0, "", (10, 11)),
    ("SP-10004", "ayse@example.com", "return_requested", 12, "mng", (6,)),
    ("SP-10005", "mehmet@example.com", "out_for_delivery", 2, "ptt", (3,)),
    ("SP-10006", "mehmet@example.com", "cancelled", 9, "", (8,)),
    ("SP-10007", "mehmet@example.com", "refunded", 40, "surat", (7, 4)),
    ("SP-10008", "irem@example.com", "preparing", 1, "", (9, 10)),
    ("SP-10009", "irem@example.com", "returned", 20, "yurtici", (5,)),
    ("SP-10010", "oguz@example.com", "confirmed", 1, "", (1,)),
    ("SP-10011", "oguz@example.com", "delivered", 60, "Horoz Lojistik", (8, 0)),
    ("SP-10012", "sarah@example.com", "shipped", 4, "dhl", (11, 4)),
    ("SP-10013", "sarah@example.com", "delivered", 33, "ups", (2,)),
    ("SP-10014", "emre@example.com", "out_for_delivery", 2, "aras", (6, 5)),
]

NAMES = {
    "ayse@example.com": "Ayşe Yılmaz", "mehmet@example.com": "Mehmet Demir", "irem@example.com": "İrem Işık",
    "oguz@example.com": "Oğuz Güneş", "sarah@example.com": "Sarah Miller", "emre@example.com": "Emre Çağlar",
}
ADDRESSES = [
    "Bağdat Caddesi No: 212/5\nKadıköy / İstanbul", "Atatürk Bulvarı No: 45 D: 7\nÇankaya / Ankara",
    "Kıbrıs Şehitleri Cad. No: 18\nAlsancak / İzmir", "Cumhuriyet Mah. 1203 Sok. No: 4\nNilüfer / Bursa",
]
NOTES = {
    "shipped": "Paketiniz kargoya teslim edildi.", "out_for_delivery": "Kurye bugün teslim edecek.",
    "cancelled": "Müşteri isteğiyle iptal edildi.", "return_requested": "Ürün beden uymadı, iade istendi.",
    "refunded": "Ücret iadesi kartınıza yapıldı.",
}


def path_to(status: str) -> list[str]:
    """The changes after ``received`` that lead to ``status`` the usual way."""
    if status in FLOW:
        return list(FLOW[1:FLOW.index(status) + 1])
    if status == "cancelled":
        return ["confirmed", "cancelled"]
    after_delivery = {"return_requested": ["return_requested"], "returned": ["return_requested", "returned"],
                      "refunded": ["return_requested", "returned", "refunded"]}[status]
    return list(FLOW[1:]) + after_delivery


async def _create(number: str, email: str, status: str, days_ago: int, carrier: str, picks: tuple[int, ...],
                  rng: random.Random, at: datetime) -> None:
    items = tuple(Item(sku=PRODUCTS[i][0], name=PRODUCTS[i][1], quantity=rng.choice((1, 1, 2)),
                       unit_price=Decimal(PRODUCTS[i][2])) for i in picks)
    placed = (at - timedelta(days=days_ago, hours=rng.randint(1, 9))).replace(microsecond=0)
    data = OrderData(number=number, email=email, name=NAMES[email], items=items, status="received",
                     total=sum((i.unit_price * i.quantity for i in items), Decimal(0)), placed_at=placed,
                     shipping_address=rng.choice(ADDRESSES), phone=f"+90532{rng.randint(1000000, 9999999)}")
    await service.upsert_order(data, actor="demo", now=placed)
    when = placed
    for step in path_to(status):
        when = min(when + timedelta(hours=rng.randint(3, 30)), at - timedelta(minutes=5))
        change = Change(status=step, note=NOTES.get(step, ""))
        if step == "shipped" and carrier:
            code = carrier.upper()[:2] if carrier.isascii() else "TR"
            change = Change(status=step, note=change.note, carrier=carrier,
                            tracking_number=f"{code}{rng.randint(100000000, 999999999)}",
                            estimated_delivery=(when + timedelta(days=3)).date())
        await service.change_order(number, change, actor="demo", now=when, notify=False)


async def demo_step(settings: Settings, passwords: Passwords) -> None:
    rng = random.Random(2026)  # the same demo every time
    at = now()
    existing = {r["number"] for r in await Order.select(Order.number).where(
        Order.number.is_in([o[0] for o in ORDERS]))}
    for number, email, status, days_ago, carrier, picks in ORDERS:
        if number not in existing:
            await _create(number, email, status, days_ago, carrier, picks, rng, at)
