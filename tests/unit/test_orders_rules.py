"""Order rules without a database: parsing what Turkish users export, validation, carriers."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from portal.accounts.api_scopes import format_scopes, parse_scopes, token_allows
from portal.orders import carriers, importer, queries, service
from tests.order_fixtures import sample_order

TZ = ZoneInfo("Europe/Istanbul")


@pytest.mark.parametrize("text, value", [
    ("1.234,56", "1234.56"), ("1234,56", "1234.56"), ("349,90", "349.90"), ("1,234.56", "1234.56"),
    ("1234.56", "1234.56"), ("1.234", "1234"), ("1.234.567,8", "1234567.8"), ("₺1.234,56", "1234.56"),
    ("1.234,56 TL", "1234.56"), ("150", "150"), (" 5 ", "5"), ("0,5", "0.5"), ("12.345,00", "12345.00"),
])
def test_parse_decimal(text, value):
    assert importer.parse_decimal(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "1.234.56", "12,", "1,2,3.4.5", "--1"])
def test_parse_decimal_refuses(text):
    with pytest.raises(ValueError):
        importer.parse_decimal(text)


@pytest.mark.parametrize("text, expected", [
    ("22.11.2026", datetime(2026, 11, 21, 21, 0, tzinfo=UTC)),
    ("22.11.2026 14:30", datetime(2026, 11, 22, 11, 30, tzinfo=UTC)),
    ("22/11/2026 14:30:15", datetime(2026, 11, 22, 11, 30, 15, tzinfo=UTC)),
    ("2026-11-22T10:15:00+03:00", datetime(2026, 11, 22, 7, 15, tzinfo=UTC)),
    ("2026-11-22 10:15", datetime(2026, 11, 22, 7, 15, tzinfo=UTC)),
])
def test_parse_datetime_in_istanbul(text, expected):
    assert importer.parse_datetime(text, TZ) == expected


@pytest.mark.parametrize("text", ["31.02.2026", "22.13.2026", "yarın", "11/22/2026"])
def test_parse_datetime_refuses(text):
    with pytest.raises(ValueError):
        importer.parse_datetime(text, TZ)


def test_parse_date():
    assert importer.parse_date("25.11.2026") == date(2026, 11, 25)
    assert importer.parse_date("2026-11-25") == date(2026, 11, 25)


@pytest.mark.parametrize("text, status", [
    ("shipped", "shipped"), ("SHIPPED", "shipped"), ("Kargoda", "shipped"), ("KARGOYA VERİLDİ", "shipped"),
    ("teslim edildi", "delivered"), ("İptal", "cancelled"), ("Out for delivery", "out_for_delivery"),
    ("out_for_delivery", "out_for_delivery"), ("Dağıtımda", "out_for_delivery"),
    ("Return requested", "return_requested"),
])
def test_parse_status(text, status):
    assert importer.parse_status(text) == status


def test_decode_and_sniff():
    assert importer.decode("a;ş".encode())[1] == "utf-8"
    assert importer.decode(b"\xef\xbb\xbfa;b") == ("a;b", "utf-8-sig")
    assert importer.decode("Işık".encode("cp1254")) == ("Işık", "cp1254")
    assert importer.sniff_delimiter("a;b;c,d") == ";"
    assert importer.sniff_delimiter("a,b,c") == ","
    assert importer.sniff_delimiter("a\tb") == "\t"
    assert importer.sniff_delimiter("single") == ","


def test_turkish_and_english_headers():
    index = importer._HEADER_INDEX
    assert index[importer._key("Sipariş No")] == "number"
    assert index[importer._key("SİPARİŞ NO")] == "number"
    assert index[importer._key("E-Posta")] == "email"
    assert index[importer._key("order_number")] == "number"
    assert index[importer._key("Birim Fiyat")] == "unit_price"
    assert index[importer._key("Tahmini Teslim")] == "estimated_delivery"


def test_validate_order():
    assert service.validate_order(sample_order()) == {}
    errors = service.validate_order(sample_order(
        number="SP 1", email="x", status="lost", total=Decimal("1.005"), currency="tl", items=(
            service.Item(name="", quantity=0, unit_price=Decimal("-1")),)))
    assert set(errors) == {"number", "customer.email", "status", "total", "currency", "items[0].name",
                           "items[0].quantity", "items[0].unit_price"}
    naive = sample_order(placed_at=datetime(2026, 11, 22, 10, 0))  # noqa: DTZ001
    assert "placed_at" in service.validate_order(naive)
    assert "items" in service.validate_order(sample_order(items=()))


def test_mail_rule():
    assert service._worth_a_mail("received", "shipped", False)
    assert not service._worth_a_mail("confirmed", "received", False)  # not a customer-visible step
    assert not service._worth_a_mail("shipped", "shipped", False)
    assert service._worth_a_mail("shipped", "shipped", True)  # new tracking number on the way
    assert not service._worth_a_mail("preparing", "preparing", True)
    assert {service.mail_template(s) for s in service.MAILED_STATUSES} >= {"order-out-for-delivery"}


def test_every_mailed_status_has_a_template():
    from portal.templating import TEMPLATE_DIR

    for status in service.MAILED_STATUSES:
        assert (TEMPLATE_DIR / "mail" / service.mail_template(status) / "subject.txt").exists(), status


def test_carriers():
    assert carriers.tracking_url("yurtici", "YK 1/2") == (
        "https://www.yurticikargo.com/tr/online-servisler/gonderi-sorgula?code=YK%201%2F2")
    assert carriers.tracking_url("Horoz Lojistik", "HZ1") is None
    assert carriers.tracking_url("aras", "") is None
    assert carriers.display_name("surat") == "Sürat Kargo"
    assert carriers.display_name("Horoz Lojistik") == "Horoz Lojistik"
    assert carriers.normalize("YURTİÇİ KARGO") == "yurtici"
    assert carriers.normalize(" Sürat ") == "surat"
    assert all(c.url_template.startswith("https://") for c in carriers.CARRIERS.values())
    assert set(carriers.CARRIERS) >= {"yurtici", "aras", "mng", "ptt", "surat", "ups", "dhl"}


def test_register_a_custom_carrier():
    try:
        carriers.register_carrier("hepsijet", "HepsiJet", "https://www.hepsijet.com/gonderi-takibi/{number}")
        assert carriers.normalize("HepsiJet") == "hepsijet"
        assert carriers.tracking_url("hepsijet", "HJ1") == "https://www.hepsijet.com/gonderi-takibi/HJ1"
        with pytest.raises(ValueError):
            carriers.register_carrier("x", "X", "http://insecure/{number}")
    finally:
        carriers.CARRIERS.pop("hepsijet", None)


def test_cursor_round_trip_and_garbage():
    row = {"placed_at": datetime(2026, 11, 22, 7, 15, tzinfo=UTC), "id": 42}
    assert queries.decode_cursor(queries.encode_cursor(row)) == (row["placed_at"], 42)
    for junk in ("", "x", "!!!", "a" * 200, "MjAyNi0xMS0yMnxhYmM"):
        assert queries.decode_cursor(junk) is None


def test_progress():
    assert queries.progress("shipped")[3] == ("shipped", "current")
    assert queries.progress("shipped")[0] == ("received", "done")
    assert queries.progress("shipped")[-1] == ("delivered", "todo")
    assert queries.progress("cancelled") == []


def test_token_scopes():
    assert token_allows({"scopes": "*"}, "orders")
    assert token_allows({"scopes": "orders, tickets"}, "tickets")
    assert not token_allows({"scopes": "tickets"}, "orders")
    assert not token_allows(None, "orders")
    assert token_allows({}, "orders")  # rows from before the column existed: everything
    assert format_scopes([]) == "*" and format_scopes(["tickets", "orders"]) == "orders,tickets"
    assert parse_scopes("Orders,,") == {"orders"}
