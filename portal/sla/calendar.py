"""Business calendars as pure functions: when is the business open, and business-time
arithmetic over that (add minutes, minutes between two times).

A :class:`Calendar` is a week of opening hours in a time zone (several ranges a day, or 24/7),
Turkey's public holidays from the ``holidays`` package (religious holidays included; on the
half days before Ramazan and Kurban Bayramı, and on 28 October, work stops at 13:00) and the
company's own closed ranges. Opening hours are wall-clock times in the calendar's zone and
converted to UTC per day with ``zoneinfo``, so a business minute is a real minute even across
daylight-saving changes (a 24/7 day in Europe/Berlin is 23 or 25 hours long).

Everything here takes and returns aware datetimes; arithmetic is on ``timedelta`` (exact to
the microsecond), and nothing reads the clock or the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_pkg
from holidays.constants import HALF_DAY, PUBLIC

Range = tuple[int, int]  # minutes from local midnight, [start, end); end may be 1440
Interval = tuple[datetime, datetime]  # UTC, [start, end)

DAY = 24 * 60
HALF_DAY_CLOSE = 13 * 60  # the public half days end at 13:00
# Looking further than this for open time means the calendar is never open: give up.
MAX_DAYS = 3 * 366
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFFICE_HOURS: tuple[Range, ...] = ((9 * 60, 18 * 60),)
DEFAULT_WEEK: tuple[tuple[Range, ...], ...] = (OFFICE_HOURS,) * 5 + ((), ())


@dataclass(frozen=True)
class Calendar:
    """Hashable (tuples only), so a day's open intervals can be cached per calendar."""

    week: tuple[tuple[Range, ...], ...] = DEFAULT_WEEK  # Monday first, 7 entries
    tz: str = "Europe/Istanbul"
    always_open: bool = False  # 24/7 (public holidays and closures still apply when set)
    public_holidays: bool = True  # Turkey's public holidays and half days
    closures: tuple[Interval, ...] = ()  # the company's closed ranges, UTC


# --- parsing the weekly hours ---------------------------------------------------------------------

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


class BadHours(ValueError):
    """Opening hours that cannot be read; the message says which part."""


def parse_ranges(text: str) -> tuple[Range, ...]:
    """``"09:00-12:30, 13:30-18:00"`` to minute ranges; empty text is a closed day. Ranges must
    be in order and not overlap; ``24:00`` may end a range."""
    ranges: list[Range] = []
    for part in [p for p in re.split(r"[,;]", text or "") if p.strip()]:
        m = _RANGE.match(part)
        if not m:
            raise BadHours(part.strip())
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start >= DAY or end > DAY or end <= start:
            raise BadHours(part.strip())
        if ranges and start < ranges[-1][1]:
            raise BadHours(part.strip())
        ranges.append((start, end))
    return tuple(ranges)


def format_ranges(ranges: Iterable[Range]) -> str:
    return ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in ranges)


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a directory: IsADirectoryError
        return False
    return True


# --- holidays -----------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def turkish_holidays(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(whole-day public holidays, half days closing at 13:00) of one year."""
    full = holidays_pkg.Turkey(years=year, categories=(PUBLIC,))
    half = holidays_pkg.Turkey(years=year, categories=(HALF_DAY,))
    return frozenset(full), frozenset(d for d in half if d not in full)


def holiday_list(year: int, language: str = "en_US") -> list[tuple[date, str, bool]]:
    """(day, name, half day?) of a year, for showing the calendar to people."""
    lang = "tr" if language.startswith("tr") else "en_US"
    rows = holidays_pkg.Turkey(years=year, categories=(PUBLIC, HALF_DAY), language=lang)
    _full, half = turkish_holidays(year)
    return sorted((d, name, d in half) for d, name in rows.items())


# --- open intervals -------------------------------------------------------------------------------

def _at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return local.replace(tzinfo=zone).astimezone(UTC)


def _subtract(intervals: Iterable[Interval], cuts: Iterable[Interval]) -> list[Interval]:
    out = list(intervals)
    for c0, c1 in cuts:
        if c1 <= c0:
            continue
        kept: list[Interval] = []
        for a, b in out:
            if c1 <= a or c0 >= b:
                kept.append((a, b))
                continue
            if a < c0:
                kept.append((a, c0))
            if c1 < b:
                kept.append((c1, b))
        out = kept
    return out


@lru_cache(maxsize=50_000)
def day_intervals(cal: Calendar, day: date) -> tuple[Interval, ...]:
    """The open intervals (UTC) of one local day of ``cal``."""
    zone = ZoneInfo(cal.tz)
    ranges: tuple[Range, ...] = ((0, DAY),) if cal.always_open else cal.week[day.weekday()]
    if cal.public_holidays and ranges:
        full, half = turkish_holidays(day.year)
        if day in full:
            return ()
        if day in half:
            ranges = tuple((s, min(e, HALF_DAY_CLOSE)) for s, e in ranges if s < HALF_DAY_CLOSE)
    intervals = [(a, b) for s, e in ranges if (a := _at(day, s, zone)) < (b := _at(day, e, zone))]
    if cal.closures and intervals:
        intervals = _subtract(intervals, [c for c in cal.closures if c[0] < intervals[-1][1]
                                          and c[1] > intervals[0][0]])
    return tuple(intervals)


def open_intervals(cal: Calendar, start: datetime, pauses: Iterable[Interval] = ()) -> Iterator[Interval]:
    """Open time from ``start`` on, in order, with the ``pauses`` (UTC intervals) cut out;
    ends after :data:`MAX_DAYS` days."""
    cuts = sorted(p for p in pauses if p[1] > start and p[1] > p[0])
    day = start.astimezone(ZoneInfo(cal.tz)).date() - timedelta(days=1)
    for _ in range(MAX_DAYS):
        for a, b in day_intervals(cal, day):
            if b <= start:
                continue
            pieces = [(max(a, start), b)]
            if cuts:
                pieces = _subtract(pieces, [c for c in cuts if c[0] < b and c[1] > a])
            yield from pieces
        day += timedelta(days=1)


def add(cal: Calendar, start: datetime, minutes: float, pauses: Iterable[Interval] = ()) -> datetime | None:
    """The moment ``minutes`` of open (and unpaused) time after ``start``; None when the
    calendar has no such time within :data:`MAX_DAYS` days. Zero minutes is ``start`` itself."""
    left = timedelta(minutes=minutes)
    if left <= timedelta(0):
        return start
    for a, b in open_intervals(cal, start, pauses):
        span = b - a
        if span >= left:
            return a + left
        left -= span
    return None


def between(cal: Calendar, start: datetime, end: datetime, pauses: Iterable[Interval] = ()) -> timedelta:
    """Open (and unpaused) time in [start, end); zero when ``end`` is not after ``start``."""
    total = timedelta(0)
    if end <= start:
        return total
    for a, b in open_intervals(cal, start, pauses):
        if a >= end:
            break
        total += min(b, end) - a
    return total


def is_open(cal: Calendar, when: datetime) -> bool:
    day = when.astimezone(ZoneInfo(cal.tz)).date()
    return any(a <= when < b for a, b in day_intervals(cal, day))
