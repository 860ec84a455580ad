from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portal import i18n


@pytest.mark.parametrize(
    ("text", "lower"),
    [("İSTANBUL", "istanbul"), ("IŞIK", "ışık"), ("İADE", "iade"), ("ıİiI", "ıiiı")],
)
def test_turkish_lower(text, lower):
    assert i18n.tr_lower(text) == lower


@pytest.mark.parametrize(("text", "upper"), [("istanbul", "İSTANBUL"), ("ışık", "IŞIK"), ("iade", "İADE")])
def test_turkish_upper(text, upper):
    assert i18n.tr_upper(text) == upper


@pytest.mark.parametrize(
    ("a", "b"),
    [("İADE", "iade"), ("İade", "iade"), ("IŞIK", "ışık"), ("isik", "IŞIK"), ("siparis", "sipariş"),
     ("odeme", "ÖDEME"), ("İSTANBUL", "istanbul")],
)
def test_search_fold_matches_both_directions(a, b):
    assert i18n.search_fold(a) == i18n.search_fold(b)


def test_email_key_is_case_insensitive_but_keeps_dotless_i_distinct():
    assert i18n.email_key(" AYSE@Example.COM ") == "ayse@example.com"
    assert i18n.email_key("İREM@example.com") == "irem@example.com"
    assert i18n.email_key("mıke@example.com") != i18n.email_key("mike@example.com")


@pytest.mark.parametrize(
    ("header", "expected"),
    [("en-US,en;q=0.9", "en"), ("tr-TR,tr;q=0.9,en;q=0.8", "tr"), ("de-DE,en;q=0.5", "en"),
     ("de,fr", "tr"), ("", "tr"), ("en;q=abc,tr", "tr"), ("*", "tr")],
)
def test_accept_language_negotiation(header, expected):
    assert i18n.negotiate(user_pref=None, query=None, cookie=None, accept_language=header, default="tr") == expected


def test_negotiation_order_is_user_then_query_then_cookie_then_header():
    assert i18n.negotiate(user_pref="en", query="tr", cookie="tr", accept_language="tr", default="tr") == "en"
    assert i18n.negotiate(user_pref=None, query="en", cookie="tr", accept_language="tr", default="tr") == "en"
    assert i18n.negotiate(user_pref=None, query=None, cookie="en", accept_language="tr", default="tr") == "en"
    assert i18n.negotiate(user_pref="xx", query="yy", cookie=None, accept_language=None, default="en") == "en"


def test_dates_and_money_follow_the_locale_and_istanbul_time():
    moment = datetime(2026, 11, 22, 7, 15, tzinfo=UTC)  # 10:15 in Istanbul
    with i18n.use_locale("tr"):
        assert "10:15" in i18n.format_datetime(moment)
        assert "Kas" in i18n.format_datetime(moment)
        assert i18n.format_money(Decimal("1234.5")) == "₺1.234,50"
    with i18n.use_locale("en"):
        assert "Nov" in i18n.format_datetime(moment)
        assert "1,234.50" in i18n.format_money(Decimal("1234.5"))


def test_turkish_alphabetical_order():
    from portal.i18n import sort_key

    titles = ["Zil", "Ödeme", "İade", "Işık", "Çanta", "Cüzdan", "ozon", "Hediye", "ğ harfi", "Gümüş", "2 adım"]
    assert sorted(titles, key=lambda t: sort_key(t, "tr")) == [
        "2 adım", "Cüzdan", "Çanta", "Gümüş", "ğ harfi", "Hediye", "Işık", "İade", "ozon", "Ödeme", "Zil"]
    # İ and i are one letter, I and ı another; â sorts with a
    assert sort_key("İade", "tr")[0] == sort_key("iade", "tr")[0] != sort_key("Iade", "tr")[0]
    assert sort_key("Kâğıt", "tr")[0] == sort_key("kağıt", "tr")[0]
    assert sorted(["banana", "Apple", "cherry"], key=lambda t: sort_key(t, "en")) == ["Apple", "banana", "cherry"]
