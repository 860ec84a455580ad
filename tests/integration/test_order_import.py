"""The CSV importer on both databases: Turkish Excel exports, mixed good and bad rows, twice."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from portal.accounts.tables import Customer
from portal.clock import now
from portal.mail.tables import Outbox
from portal.orders import importer
from portal.orders.tables import Order, OrderEvent, OrderItem

DATA = Path(__file__).parent.parent / "data"
TZ = ZoneInfo("Europe/Istanbul")


async def run(raw: bytes, **kwargs) -> importer.ImportReport:
    return await importer.import_orders(raw, actor="import:test", now=now(), tz=TZ, **kwargs)


async def test_turkish_excel_file_with_good_and_bad_rows(running_app):
    seen = []
    report = await run((DATA / "orders_excel_tr.csv").read_bytes(), progress=lambda d, t: seen.append((d, t)))
    assert (report.encoding, report.delimiter) == ("utf-8-sig", ";")
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert sorted({r.line for r in report.rejected}) == [5, 6, 7, 8, 9, 10]
    reasons = {r.line: r.reason for r in report.rejected}
    assert "quantity" in reasons[6] and "abc" in reasons[6]
    assert "6" in reasons[5]  # the good row of a bad order names the bad line
    assert "email" in reasons[7]
    assert "kayıp" in reasons[8]
    assert "number" in reasons[9]
    assert "31.02.2026" in reasons[10]
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)

    numbers = {r["number"] for r in await Order.select(Order.number)}
    assert numbers == {"SP-20001", "SP-20002", "SP-20007"}  # bad orders changed nothing
    order = await Order.select().where(Order.number == "SP-20001").first()
    assert Decimal(order["total"]).quantize(Decimal("0.01")) == Decimal("1934.36")
    assert order["status"] == "shipped"
    assert order["carrier"] == "yurtici"
    assert order["shipping_address"] == "Bağdat Cad. 12/3; Kadıköy İstanbul"
    assert order["estimated_delivery"] == date(2026, 11, 25)
    placed = order["placed_at"]
    placed = placed.astimezone(UTC) if placed.tzinfo else placed.replace(tzinfo=UTC)
    assert placed == datetime(2026, 11, 22, 7, 15, tzinfo=UTC)  # 10:15 in Istanbul
    items = await OrderItem.select().where(OrderItem.order == order["id"]).order_by(OrderItem.position)
    assert [(i["name"], i["quantity"]) for i in items] == [("Çelik Termos 1L", 2), ("Kamp Sandalyesi", 1)]
    assert Decimal(items[1]["unit_price"]).quantize(Decimal("0.01")) == Decimal("1234.56")
    irem = await Customer.select().where(Customer.email_key == "irem@example.com").first()
    assert irem is None  # her order was rejected: not even a customer row


async def test_importing_the_same_file_twice_changes_nothing(running_app):
    raw = (DATA / "orders_excel_tr.csv").read_bytes()
    await run(raw)
    counts = (await Order.count(), await OrderEvent.count(), await OrderItem.count(), await Outbox.count())
    again = await run(raw)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    after = (await Order.count(), await OrderEvent.count(), await OrderItem.count(), await Outbox.count())
    assert after == counts


async def test_a_later_file_changes_status_and_mails(running_app):
    await run((DATA / "orders_excel_tr.csv").read_bytes())
    update = ("Sipariş No;E-posta;Ad Soyad;Sipariş Tarihi;Ürün Adı;Adet;Birim Fiyat;Durum;Kargo;Takip No\n"
              "SP-20007;emre@example.com;Emre Çağlar;17.11.2026 09:00;Kalem Seti;2;45,50;Kargoya verildi;PTT;"
              "PT1\n")
    report = await run(update.encode())
    assert report.updated == 1
    mails = await Outbox.select().where(Outbox.to_addr == "emre@example.com")
    assert [m["template"] for m in mails] == ["order-shipped"]


async def test_english_comma_file(running_app):
    report = await run((DATA / "orders_en.csv").read_bytes())
    assert (report.encoding, report.delimiter, report.created, report.rejected) == ("utf-8", ",", 2, [])
    en1 = await Order.select().where(Order.number == "EN-1").first()
    assert Decimal(en1["total"]).quantize(Decimal("0.01")) == Decimal("4963.00")
    assert en1["carrier"] == "dhl"
    en2 = await Order.select().where(Order.number == "EN-2").first()
    assert en2["carrier"] == "Horoz Lojistik"  # unknown carrier: kept as given
    assert en2["email_key"] == "emre@example.com"


async def test_windows_1254_file(running_app):
    text = ("Sipariş No;E-posta;Ad Soyad;Tarih;Ürün;Adet;Birim Fiyat;Toplam\r\n"
            "SP-3001;ogUz@example.com;Oğuz Güneş;22.11.2026;Işıklı Ayna;1;1.299,00;1.299,00\r\n"
            "SP-3002;iLKer@example.com;İlker Şen;22.11.2026;Çay Bardağı Seti;6;24,90;149,40\r\n")
    raw = text.encode("cp1254")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    report = await run(raw)
    assert (report.encoding, report.created, report.rejected) == ("cp1254", 2, [])
    row = await Order.select().where(Order.number == "SP-3001").first()
    assert row["customer_name"] == "Oğuz Güneş"
    item = await OrderItem.select(OrderItem.name).where(OrderItem.order == row["id"]).first()
    assert item["name"] == "Işıklı Ayna"
    assert Decimal(row["total"]).quantize(Decimal("0.01")) == Decimal("1299.00")


async def test_utf8_without_bom_and_utf16(running_app):
    text = "sipariş no;e-posta;ürün;adet;fiyat;tarih\nSP-1;a@example.com;Kupa;1;10;2026-11-22\n"
    assert (await run(text.encode())).created == 1
    utf16 = text.replace("SP-1", "SP-2").replace(";", "\t").encode("utf-16")
    report = await run(utf16)
    assert (report.encoding, report.delimiter, report.created) == ("utf-16", "\t", 1)


async def test_unreadable_files_are_refused_whole(running_app):
    with pytest.raises(importer.ImportFileError):
        await run(b"")
    with pytest.raises(importer.ImportFileError, match="email"):
        await run(b"number;item;quantity;unit_price;placed_at\nSP-1;x;1;1;22.11.2026\n")
    assert await Order.count() == 0


async def test_conflicting_order_fields_reject_the_order(running_app):
    text = ("number;email;item;quantity;unit_price;placed_at;status\n"
            "SP-1;a@example.com;Kupa;1;10;22.11.2026;received\n"
            "SP-1;b@example.com;Tabak;1;10;22.11.2026;received\n")
    report = await run(text.encode())
    assert report.created == 0
    assert {r.line for r in report.rejected} == {2, 3}
    assert "email" in [r for r in report.rejected if r.line == 3][0].reason
