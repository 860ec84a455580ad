"""The fast, cached formatting in ``portal.i18n`` gives exactly Babel's own output."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from portal import i18n

FORMATS = ["short", "medium", "long", "full", "d MMMM y, HH:mm", "EEEE d MMM", "y-MM-dd'T'HH:mm", "h:mm a"]


def _moments(n: int = 300) -> list[datetime]:
    rng = random.Random(7)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    out = [start + timedelta(seconds=rng.randint(0, 8 * 365 * 86400)) for _ in range(n)]
    out.append(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))  # a DST change in Europe
    out.append(datetime(2026, 11, 22, 12, 0, tzinfo=timezone(timedelta(hours=5))))  # another offset
    out.append(datetime(2026, 11, 22, 12, 0))  # naive: Babel reads it as UTC
    return out


@pytest.mark.parametrize("locale", i18n.LOCALES)
@pytest.mark.parametrize("tz", ["Europe/Istanbul", "Europe/London", "UTC"])
def test_datetime_matches_babel(locale, tz) -> None:
    babel_locale = i18n.BABEL_LOCALES[locale]
    i18n.set_timezone(tz)
    with i18n.use_locale(locale):
        for value in _moments():
            for fmt in FORMATS:
                expected = babel_dates.format_datetime(value, fmt, tzinfo=ZoneInfo(tz), locale=babel_locale)
                assert i18n.format_datetime(value, fmt) == expected, (value, fmt)
                assert i18n.format_datetime(value, fmt) == expected  # the cached answer too
    i18n.set_timezone("Europe/Istanbul")


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_date_and_money_match_babel(locale) -> None:
    babel_locale = i18n.BABEL_LOCALES[locale]
    i18n.set_timezone("Europe/Istanbul")
    with i18n.use_locale(locale):
        for fmt in ("short", "medium", "long", "full"):
            assert i18n.format_date(date(2026, 2, 9), fmt) == babel_dates.format_date(date(2026, 2, 9), fmt,
                                                                                      locale=babel_locale)
            late = datetime(2026, 2, 9, 22, 30, tzinfo=UTC)  # already the 10th in Istanbul
            assert i18n.format_date(late, fmt) == babel_dates.format_date(date(2026, 2, 10), fmt,
                                                                          locale=babel_locale)
        for amount in (Decimal("1234.56"), Decimal("0.5"), 349.9, 12, "1000000.999", Decimal("-5.00")):
            expected = babel_numbers.format_currency(Decimal(str(amount)), "TRY", locale=babel_locale)
            assert i18n.format_money(amount) == expected
        assert i18n.format_money(Decimal("10"), "EUR") == babel_numbers.format_currency(
            Decimal("10"), "EUR", locale=babel_locale)


def test_the_locale_and_zone_are_part_of_the_key() -> None:
    moment = datetime(2026, 11, 22, 21, 30, tzinfo=UTC)
    i18n.set_timezone("Europe/Istanbul")
    with i18n.use_locale("tr"):
        tr = i18n.format_datetime(moment, "medium")
    with i18n.use_locale("en"):
        en = i18n.format_datetime(moment, "medium")
        i18n.set_timezone("UTC")
        en_utc = i18n.format_datetime(moment, "medium")
    i18n.set_timezone("Europe/Istanbul")
    assert tr != en and en != en_utc
    assert "00:30" in en and "21:30" in en_utc
