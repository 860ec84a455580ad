"""Two languages (tr, en): Babel catalogs, the current locale, formatting and Turkish casing.

Messages are written in English in the code and templates and translated in
``portal/translations/<locale>/LC_MESSAGES/messages.po``. The catalogs are read straight from
the ``.po`` files at start-up (no compile step to forget). The current locale lives in a
``ContextVar`` set once per request (or per mail), read by ``gettext`` here and in Jinja.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, Translations

LOCALES = ("tr", "en")
CATALOG_DIR = Path(__file__).parent / "translations"
BABEL_LOCALES = {"tr": "tr_TR", "en": "en_GB"}

_locale: ContextVar[str] = ContextVar("portal_locale", default="tr")
_timezone: ContextVar[str] = ContextVar("portal_timezone", default="Europe/Istanbul")


@cache
def translations(locale: str) -> Translations:
    po_path = CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return Translations()
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    buf = BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf)


def get_locale() -> str:
    return _locale.get()


def set_locale(locale: str) -> None:
    _locale.set(locale if locale in LOCALES else LOCALES[0])


def set_timezone(tz: str) -> None:
    _timezone.set(tz)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _locale.set(locale if locale in LOCALES else LOCALES[0])
    try:
        yield
    finally:
        _locale.reset(token)


def gettext(message: str, **variables: object) -> str:
    text = translations(_locale.get()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(_locale.get()).ungettext(singular, plural, n)
    return text % {"num": n, **variables}


def lazy_gettext(message: str) -> LazyProxy:
    return LazyProxy(translations_lookup, message, enable_cache=False)


def translations_lookup(message: str) -> str:
    return translations(_locale.get()).ugettext(message)


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the conventional name for "mark for extraction only"
    """Marks a string for the catalog where it is translated later, e.g. ``_(ROLE_NAMES[x])``."""
    return message


def negotiate(*, user_pref: str | None, query: str | None, cookie: str | None,
              accept_language: str | None, default: str) -> str:
    """The user's saved choice, then ``?lang=``, then the ``lang`` cookie, then Accept-Language."""
    for candidate in (user_pref, query, cookie):
        if candidate in LOCALES:
            return candidate  # type: ignore[return-value]
    if accept_language:
        prefs = []
        for part in accept_language.split(",")[:20]:
            tag, _sep, q = part.strip().partition(";q=")
            try:
                weight = float(q) if q else 1.0
            except ValueError:
                continue
            if tag and tag != "*":
                prefs.append((weight, tag.strip()))
        prefs.sort(key=lambda p: -p[0])
        try:
            found = Locale.negotiate([t for _w, t in prefs], list(LOCALES), sep="-")
        except (UnknownLocaleError, ValueError):
            found = None
        if found is not None:
            return found.language
    return default


# --- formatting (always in the current locale and the configured time zone) -----------------

# Parsed once: Babel re-parses a locale given as a string on every call, which doubled the cost
# of each date and amount on a page (about 30 µs each).
_BABEL_LOCALE_OBJECTS = {code: Locale.parse(name) for code, name in BABEL_LOCALES.items()}


def _babel_locale() -> Locale:
    return _BABEL_LOCALE_OBJECTS[_locale.get()]


def to_local(value: datetime) -> datetime:
    return value.astimezone(ZoneInfo(_timezone.get()))


# Formatting is the dearest part of rendering a list (a queue row has two times, a conversation
# one per message): each call is a pure function of its arguments, so results are kept in small
# LRU caches keyed by everything they depend on (value, format, locale, time zone). A page seen
# again (a refreshed queue, an order reloaded) formats nothing twice.
_ZONE_FIELDS = frozenset("zZvVOXx")


@lru_cache(maxsize=64)
def _datetime_pattern(locale: str, format: str) -> babel_dates.DateTimePattern | None:  # noqa: A002
    """The one pattern for a named or custom format: Babel formats a named one as a date, a time
    and a combining pattern on each call. ``None`` (Babel's own path) for time-zone fields."""
    loc = _BABEL_LOCALE_OBJECTS[locale]
    if format in ("full", "long", "medium", "short"):
        text = (str(loc.datetime_formats[format]).replace("{0}", loc.time_formats[format].pattern)
                .replace("{1}", loc.date_formats[format].pattern))
    else:
        text = format
    if _ZONE_FIELDS & set(text) or "'" in text:
        return None
    return babel_dates.parse_pattern(text)


@lru_cache(maxsize=8192)
def _format_datetime(value: datetime, format: str, locale: str, tz: str) -> str:  # noqa: A002
    pattern = _datetime_pattern(locale, format)
    if pattern is None:
        return babel_dates.format_datetime(value, format, tzinfo=ZoneInfo(tz),
                                           locale=_BABEL_LOCALE_OBJECTS[locale])
    if value.tzinfo is None:  # Babel reads a naive datetime as UTC
        value = value.replace(tzinfo=UTC)
    return pattern.apply(value.astimezone(ZoneInfo(tz)), _BABEL_LOCALE_OBJECTS[locale])


def format_datetime(value: datetime | None, format: str = "medium") -> str:  # noqa: A002
    if value is None:
        return ""
    return _format_datetime(value, format, _locale.get(), _timezone.get())


@lru_cache(maxsize=4096)
def _format_date(value: date | datetime, format: str, locale: str, tz: str) -> str:  # noqa: A002
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz)).date()
    return babel_dates.format_date(value, format, locale=_BABEL_LOCALE_OBJECTS[locale])


def format_date(value: date | datetime | None, format: str = "medium") -> str:  # noqa: A002
    if value is None:
        return ""
    return _format_date(value, format, _locale.get(), _timezone.get())


def format_timedelta(value: timedelta, *, add_direction: bool = False, threshold: float = 0.85) -> str:
    return babel_dates.format_timedelta(value, add_direction=add_direction, threshold=threshold,
                                        locale=_babel_locale())


@lru_cache(maxsize=4096)
def _format_money(amount: str, currency: str, locale: str) -> str:
    return babel_numbers.format_currency(Decimal(amount), currency, locale=_BABEL_LOCALE_OBJECTS[locale])


def format_money(amount: Decimal | int | float | str, currency: str = "TRY") -> str:
    return _format_money(str(amount), currency, _locale.get())


def format_number(value: Decimal | int | float) -> str:
    return babel_numbers.format_decimal(value, locale=_babel_locale())


# --- Turkish-aware casing -------------------------------------------------------------------

_TR_LOWER = str.maketrans({"I": "ı", "İ": "i"})
_TR_UPPER = str.maketrans({"i": "İ", "ı": "I"})


def tr_lower(text: str) -> str:
    """Lower-case by Turkish rules: I→ı, İ→i (Python's ``lower`` gives i and i̇)."""
    return text.translate(_TR_LOWER).lower()


def tr_upper(text: str) -> str:
    """Upper-case by Turkish rules: i→İ, ı→I."""
    return text.translate(_TR_UPPER).upper()


def search_fold(text: str) -> str:
    """A key for matching typed text whatever its case and diacritics: ``IŞIK``, ``ışık`` and
    ``isik`` all become ``isik``; ``İADE`` and ``iade`` become ``iade``."""
    lowered = tr_lower(unicodedata.normalize("NFC", text)).replace("ı", "i")
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# The Turkish alphabet's order (q, w, x after their Latin neighbours; circumflexed vowels with
# their plain ones). Python compares code points, so "Çanta" came after "Zil" and "İade" after
# every other letter; PostgreSQL's order depends on the database's collation.
_TR_ALPHABET = "abcçdefgğhıijklmnoöpqrsştuüvwxyz"
_TR_RANK = {ch: i for i, ch in enumerate(_TR_ALPHABET)}
_TR_RANK |= {"â": _TR_RANK["a"], "î": _TR_RANK["i"], "û": _TR_RANK["u"]}


def sort_key(text: str, lang: str) -> tuple:
    """A key that puts titles and names in the reader's alphabetical order: Turkish
    (c < ç < d, g < ğ < h, ı < i, o < ö < p, s < ş < t, u < ü < v; case by Turkish rules) or
    English (case-insensitive). Digits and other characters come before letters."""
    if lang != "tr":
        folded = unicodedata.normalize("NFC", text).casefold()
        return (folded, text)
    lowered = tr_lower(unicodedata.normalize("NFC", text))
    return (tuple((1, _TR_RANK[ch]) if ch in _TR_RANK else (0, ord(ch)) for ch in lowered), text)


def email_key(address: str) -> str:
    """The lookup key of an e-mail address: case-insensitive and safe for Turkish İ/I.

    Dotless ı stays distinct from i, so ``mıke@`` never matches ``mike@``'s account (the
    Unicode case collision that sent GitHub and Django reset mails to the wrong address).
    """
    normalized = unicodedata.normalize("NFC", address.strip()).replace("İ", "i")
    return normalized.lower()
