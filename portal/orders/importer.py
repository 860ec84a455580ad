"""Importing orders from a CSV file, as Turkish users actually export them.

Read: Excel's semicolon-separated files as well as commas and tabs; UTF-8 with or without a
BOM, Windows-1254 (Excel's "CSV" on a Turkish Windows) and UTF-16 ("Unicode text"); Turkish
decimal commas (``1.234,56``) and dates (``22.11.2026``, ``22.11.2026 14:30``) as well as
``1234.56`` and ISO 8601. Headers may be English or Turkish (``number`` / ``sipariş no``);
``docs/api.md`` lists them.

One row per item; rows with the same order number form one order. An order with any bad row
is rejected whole and changes nothing; the others are imported. Each order goes through
:func:`portal.orders.service.upsert_order`, so importing the same file twice changes nothing
the second time (no events, no mails).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from portal.i18n import _, search_fold
from portal.orders import service
from portal.orders.service import Item, OrderData, OrderInvalid

# Column → accepted header names (compared case-, accent- and punctuation-insensitively).
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("number", "order number", "order no", "order", "sipariş no", "sipariş numarası", "sipariş"),
    "email": ("email", "e-mail", "customer email", "e-posta", "eposta", "müşteri e-posta"),
    "name": ("name", "customer name", "customer", "ad soyad", "müşteri", "müşteri adı", "alıcı"),
    "phone": ("phone", "telefon", "tel", "gsm"),
    "shipping_address": ("shipping address", "address", "teslimat adresi", "adres"),
    "status": ("status", "durum", "sipariş durumu"),
    "placed_at": ("placed at", "order date", "date", "sipariş tarihi", "tarih"),
    "total": ("total", "order total", "toplam", "tutar", "sipariş tutarı", "genel toplam"),
    "currency": ("currency", "para birimi", "döviz"),
    "sku": ("sku", "stok kodu", "ürün kodu"),
    "item": ("item", "item name", "product", "product name", "ürün", "ürün adı"),
    "quantity": ("quantity", "qty", "adet", "miktar"),
    "unit_price": ("unit price", "price", "birim fiyat", "fiyat"),
    "carrier": ("carrier", "kargo", "kargo firması", "kargo şirketi"),
    "tracking_number": ("tracking number", "tracking", "takip no", "kargo takip no", "takip numarası"),
    "estimated_delivery": ("estimated delivery", "delivery date", "tahmini teslim", "tahmini teslimat",
                           "teslim tarihi"),
}
REQUIRED = ("number", "email", "placed_at", "item", "quantity", "unit_price")
ORDER_FIELDS = ("email", "name", "phone", "shipping_address", "status", "placed_at", "total", "currency",
                "carrier", "tracking_number", "estimated_delivery")

# Status words as people write them, besides the codes themselves.
STATUS_WORDS = {
    "alındı": "received", "yeni": "received", "onaylandı": "confirmed", "hazırlanıyor": "preparing",
    "kargoya verildi": "shipped", "kargoda": "shipped", "gönderildi": "shipped",
    "dağıtımda": "out_for_delivery",
    "teslim edildi": "delivered", "iptal": "cancelled", "iptal edildi": "cancelled",
    "iade talebi": "return_requested", "iade edildi": "returned", "ücret iadesi": "refunded",
    "para iadesi yapıldı": "refunded", "canceled": "cancelled",
}


def _key(text: str) -> str:
    return re.sub(r"[\s_\-.:/]+", " ", search_fold(text)).strip()


_HEADER_INDEX = {_key(alias): column for column, aliases in COLUMNS.items() for alias in (column, *aliases)}
_STATUS_INDEX = {**{_key(k): v for k, v in STATUS_WORDS.items()},
                 **{_key(s): s for s in service.STATUSES},
                 **{_key(label): s for s, label in service.STATUS_LABELS.items()}}


class ImportFileError(Exception):
    """The file as a whole cannot be read (no header, a required column missing…)."""


@dataclass(frozen=True)
class Rejected:
    line: int
    number: str
    reason: str


@dataclass
class ImportReport:
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    orders: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def rejected_orders(self) -> int:
        return len({r.number or f"line {r.line}" for r in self.rejected})


# --- reading the file -------------------------------------------------------------------------------

def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was in."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Windows-1254 maps nearly every byte, so it is the last resort, never a guess over UTF-8.
        return raw.decode("cp1254", errors="replace"), "cp1254"


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_decimal(text: str) -> Decimal:
    """``1.234,56``, ``1234,56``, ``1,234.56``, ``1234.56``, ``₺1.234,56``, ``1.234,56 TL``.

    The separator that comes last is the decimal one, except in ``1.234`` or ``1,234``: groups
    of exactly three digits are thousands (money never has three decimals)."""
    s = re.sub(r"(?i)\s|tl|try|₺|\u00a0", "", text)
    if not s or not re.fullmatch(r"[+-]?[0-9.,]+", s):
        raise ValueError(text)
    if re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+", s) or re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", s):
        s = s.replace(".", "").replace(",", "")  # only thousands separators: 1.234 or 1.234.567
    else:
        last = max(s.rfind("."), s.rfind(","))
        if last >= 0:
            whole, decimals = s[:last], s[last + 1:]
            if s[last] in whole or not decimals:
                raise ValueError(text)  # 1.234.56, 12,
            s = whole.replace(".", "").replace(",", "") + "." + decimals
    try:
        return Decimal(s)
    except InvalidOperation:
        raise ValueError(text) from None


_DATE_FORMATS = ("%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d.%m.%y")
_TIME_FORMATS = ("%H:%M:%S", "%H:%M")


def parse_datetime(text: str, tz: ZoneInfo) -> datetime:
    """A time as written in Turkey (``22.11.2026 14:30``) or ISO 8601; without an offset it is
    local time in ``tz``."""
    s = text.strip()
    try:
        value = datetime.fromisoformat(s)
    except ValueError:
        value = None
        date_part, _sep, time_part = s.partition(" ")
        for dfmt in _DATE_FORMATS:
            for tfmt in (_TIME_FORMATS if time_part else ("",)):
                try:
                    value = datetime.strptime(  # noqa: DTZ007 - local time, zone added below
                        f"{date_part} {time_part}".strip(), f"{dfmt} {tfmt}".strip())
                    break
                except ValueError:
                    continue
            if value:
                break
        if value is None:
            raise ValueError(text) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def parse_date(text: str) -> date:
    s = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(s, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    return datetime.fromisoformat(s).date()


def parse_status(text: str) -> str:
    status = _STATUS_INDEX.get(_key(text))
    if status is None:
        raise ValueError(text)
    return status


def read_rows(raw: bytes) -> tuple[list[tuple[int, dict[str, str]]], str, str]:
    """(line number, column → text) for each non-empty row, plus the encoding and delimiter."""
    text, encoding = decode(raw)
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise ImportFileError(_("The file is empty or has no header row."))
    columns = [_HEADER_INDEX.get(_key(h)) for h in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ImportFileError(_("Missing columns: %(columns)s. See the list of accepted headers.",
                                columns=", ".join(missing)))
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        row = {c: v.strip() for c, v in zip(columns, values, strict=False) if c}
        rows.append((reader.line_num, row))
    return rows, encoding, delimiter


# --- from rows to orders ---------------------------------------------------------------------------

def _parse_row(row: dict[str, str], tz: ZoneInfo) -> tuple[dict, list[str]]:
    """Typed values of one row and what is wrong with it."""
    out: dict = {}
    errors: list[str] = []

    def parse(column: str, fn, message: str) -> None:
        text = row.get(column, "")
        if not text:
            return
        try:
            out[column] = fn(text)
        except (ValueError, InvalidOperation):
            errors.append(message % {"column": column, "value": text[:40]})

    for column in ("number", "email", "name", "phone", "shipping_address", "currency", "sku", "item",
                   "carrier", "tracking_number"):
        if row.get(column):
            out[column] = row[column]
    parse("status", parse_status, _("unknown status “%(value)s”"))
    parse("placed_at", lambda t: parse_datetime(t, tz), _("%(column)s: not a date and time: “%(value)s”"))
    parse("estimated_delivery", parse_date, _("%(column)s: not a date: “%(value)s”"))
    for column in ("total", "unit_price"):
        parse(column, parse_decimal, _("%(column)s: not an amount: “%(value)s”"))
    parse("quantity", parse_decimal, _("%(column)s: not a number: “%(value)s”"))
    if "quantity" in out:
        if out["quantity"] != out["quantity"].to_integral_value():
            errors.append(_("quantity: use a whole number"))
        out["quantity"] = int(out["quantity"])
    for column in ("number", "item", "quantity", "unit_price"):
        if not row.get(column):
            errors.append(_("%(column)s is empty", column=column))
    return out, errors


CURRENCY_WORDS = {"TL": "TRY", "₺": "TRY", "YTL": "TRY"}
_FIELD_COLUMNS = {"customer.email": "email", "customer.name": "name", "customer.phone": "phone"}


def _order_data(fields: dict, rows: list[dict]) -> OrderData:
    items = tuple(Item(name=r["item"], quantity=r["quantity"], unit_price=r["unit_price"],
                       sku=r.get("sku", "")) for r in rows)
    total = fields.get("total", sum((i.unit_price * i.quantity for i in items), Decimal(0)))
    currency = (fields.get("currency") or "TRY").upper()
    return OrderData(
        number=fields["number"], email=fields.get("email", ""), name=fields.get("name", ""), items=items,
        total=total, status=fields.get("status", "received"), placed_at=fields["placed_at"],
        currency=CURRENCY_WORDS.get(currency, currency), phone=fields.get("phone"),
        shipping_address=fields.get("shipping_address", ""), carrier=fields.get("carrier", ""),
        tracking_number=fields.get("tracking_number", ""),
        estimated_delivery=fields.get("estimated_delivery"),
    )


def _merge(number: str, members: list[tuple[int, dict, list[str]]]) -> dict:
    """The order's own fields, from whichever rows give them (often only the first one does);
    a row that gives a different value gets an error."""
    fields: dict = {"number": number}
    seen_at: dict[str, int] = {}
    for line, parsed, errors in members:
        for name in ORDER_FIELDS:
            if name not in parsed:
                continue
            if name in fields and parsed[name] != fields[name]:
                errors.append(_("%(column)s differs from line %(line)s", column=name, line=seen_at[name]))
            elif name not in fields:
                fields[name], seen_at[name] = parsed[name], line
    return fields


def _problems(data: OrderData, members: list[tuple[int, dict, list[str]]]) -> list[tuple[int, list[str]]]:
    """Order-level validation, each message on the line it comes from."""
    by_line: dict[int, list[str]] = {}
    for key, message in service.validate_order(data).items():
        line = members[0][0]
        if m := re.match(r"items\[(\d+)\]\.(\w+)", key):
            line, key = members[int(m.group(1))][0], {"name": "item"}.get(m.group(2), m.group(2))
        by_line.setdefault(line, []).append(f"{_FIELD_COLUMNS.get(key, key)}: {message}")
    return sorted(by_line.items())


def build_orders(rows: list[tuple[int, dict[str, str]]], tz: ZoneInfo,
                 report: ImportReport) -> list[OrderData]:
    """Group rows into orders; every rejected row goes into ``report`` with its reason."""
    groups: dict[str, list[tuple[int, dict, list[str]]]] = {}
    for line, row in rows:
        parsed, errors = _parse_row(row, tz)
        number = parsed.get("number", "")
        if not number:
            report.rejected.append(Rejected(line, "", "; ".join(errors)))
            continue
        groups.setdefault(number, []).append((line, parsed, errors))
    orders = []
    for number, members in groups.items():
        fields = _merge(number, members)
        bad = [(line, errors) for line, _p, errors in members if errors]
        if not bad and "placed_at" not in fields:
            bad = [(members[0][0], [_("placed_at is empty")])]
        if not bad:
            data = _order_data(fields, [p for _l, p, _e in members])
            if not (bad := _problems(data, members)):
                orders.append(data)
                continue
        bad_lines = {line for line, _e in bad}
        for line, errors in bad:
            report.rejected.append(Rejected(line, number, "; ".join(errors)))
        for line, _p, _e in members:
            if line not in bad_lines:
                report.rejected.append(Rejected(line, number, _("the order has a bad row (line %(line)s)",
                                                                line=min(bad_lines))))
    report.rejected.sort(key=lambda r: r.line)
    return orders


async def import_orders(raw: bytes, *, actor: str, now: datetime, tz: ZoneInfo,
                        progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Import a CSV file; raises :class:`ImportFileError` when the file cannot be read at all."""
    rows, encoding, delimiter = read_rows(raw)
    report = ImportReport(encoding=encoding, delimiter=delimiter, rows=len(rows))
    orders = build_orders(rows, tz, report)
    report.orders = len(orders)
    if progress:
        progress(0, len(orders))
    for done, data in enumerate(orders, start=1):
        try:
            outcome = await service.upsert_order(data, actor=actor, now=now)
        except OrderInvalid as exc:  # validated above; kept for safety
            report.rejected.append(Rejected(0, data.number, "; ".join(exc.fields.values())))
            continue
        if outcome.created:
            report.created += 1
        elif outcome.changed:
            report.updated += 1
        else:
            report.unchanged += 1
        if progress:
            progress(done, len(orders))
    return report
