"""The fields of a request form and the rules for what a visitor types into them (pure).

A form's definition is JSON: ``{"fields": [{"key", "type", "label": {"tr", "en"}, "help":
{"tr", "en"}, "required", "options": [{"value", "label": {"tr", "en"}}], "min_length",
"max_length", "pattern", "min", "max"}]}``. :func:`parse_definition` checks what the builder
saves; :func:`validate` checks what a visitor posts (from the page, as strings, or from the
JSON API, as JSON values) and answers the cleaned values plus one message per bad field, in the
current language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from portal.i18n import N_, _

TYPES = ("text", "email", "phone", "textarea", "choice", "multi_choice", "checkbox", "number", "date",
         "file", "order_number")
TYPE_NAMES = {
    "text": N_("Text"), "email": N_("E-mail"), "phone": N_("Phone"), "textarea": N_("Long text"),
    "choice": N_("Choice"), "multi_choice": N_("Multiple choice"), "checkbox": N_("Checkbox"),
    "number": N_("Number"), "date": N_("Date"), "file": N_("File"), "order_number": N_("Order number"),
}
WITH_OPTIONS = ("choice", "multi_choice")
WITH_LENGTH = ("text", "email", "phone", "textarea", "order_number")
DEFAULT_MAX = {"text": 200, "email": 254, "phone": 32, "textarea": 10000, "order_number": 64}
# Names the form itself uses: a field may not take them.
RESERVED = {"token", "website", "lang", "page_url", "consent", "altcha", "_csrf_token", "origin", "theme"}
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")
ORDER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{1,63}\Z")
MAX_FIELDS = 40
MAX_OPTIONS = 50
# A lead's pattern runs on public input: at most this many characters are matched against it.
PATTERN_INPUT_MAX = 500
# A number is at most this long as text and below 10**16: beyond that ``int()``/``float()``
# of a Decimal (or ``json.dumps`` of the int) costs seconds of CPU or fails.
NUMBER_TEXT_MAX = 40
NUMBER_ADJUSTED_MAX = 15


@dataclass(frozen=True)
class Option:
    value: str
    label: dict[str, str]


@dataclass(frozen=True)
class Field:
    key: str
    type: str
    label: dict[str, str]
    help: dict[str, str] = field(default_factory=dict)
    required: bool = False
    options: tuple[Option, ...] = ()
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    min: str | None = None  # a number, or an ISO date for date fields
    max: str | None = None

    def text(self, what: str, lang: str) -> str:
        values = getattr(self, what) or {}
        return values.get(lang) or values.get("tr") or values.get("en") or ""

    def option_label(self, value: str, lang: str) -> str:
        for option in self.options:
            if option.value == value:
                return option.label.get(lang) or option.label.get("tr") or value
        return value

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["options"] = [asdict(o) for o in self.options]
        return data


class DefinitionError(Exception):
    """The builder's input is not a usable form; ``errors`` maps ``fields.N.name`` to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def _two(raw: Any) -> dict[str, str]:
    raw = raw if isinstance(raw, Mapping) else {}
    return {lang: str(raw.get(lang) or "").strip()[:500] for lang in ("tr", "en")}


def _opt_int(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    return int(raw)


def parse_definition(raw: Mapping[str, Any]) -> list[Field]:
    """The fields of a definition, or :class:`DefinitionError` naming what is wrong."""
    errors: dict[str, str] = {}
    out: list[Field] = []
    seen: set[str] = set()
    items = raw.get("fields") or []
    if len(items) > MAX_FIELDS:
        raise DefinitionError({"fields": _("A form has at most %(n)s fields.", n=MAX_FIELDS)})
    for n, item in enumerate(items):
        where = f"fields.{n}"
        key = str(item.get("key") or "").strip()
        kind = str(item.get("type") or "")
        if not KEY.match(key) or key in RESERVED:
            errors[f"{where}.key"] = _("Use lower-case letters, digits and _ (not a reserved name).")
        elif key in seen:
            errors[f"{where}.key"] = _("Each field needs its own key.")
        seen.add(key)
        if kind not in TYPES:
            errors[f"{where}.type"] = _("Please choose one of the options.")
        label = _two(item.get("label"))
        if not (label["tr"] or label["en"]):
            errors[f"{where}.label"] = _("A field needs a label.")
        options = tuple(Option(str(o.get("value") or "").strip()[:100], _two(o.get("label")))
                        for o in (item.get("options") or [])[:MAX_OPTIONS])
        options = tuple(o for o in options if o.value)
        if kind in WITH_OPTIONS and not options:
            errors[f"{where}.options"] = _("A choice needs at least one option.")
        try:
            min_length, max_length = _opt_int(item.get("min_length")), _opt_int(item.get("max_length"))
        except (TypeError, ValueError):
            errors[f"{where}.min_length"] = _("Please enter a whole number.")
            min_length = max_length = None
        if min_length is not None and max_length is not None and min_length > max_length:
            errors[f"{where}.min_length"] = _("The minimum is larger than the maximum.")
        pattern = str(item.get("pattern") or "").strip() or None
        if pattern:
            try:
                re.compile(pattern)
            except re.error:
                errors[f"{where}.pattern"] = _("This is not a valid regular expression.")
            else:
                if _nested_quantifier(pattern):
                    errors[f"{where}.pattern"] = _(
                        "Please do not repeat a group that itself repeats, such as (a+)+: it can be very slow.")
            if len(pattern) > 200:
                errors[f"{where}.pattern"] = _("Please use at most %(n)s characters.", n=200)
        low = str(item.get("min") if item.get("min") is not None else "").strip() or None
        high = str(item.get("max") if item.get("max") is not None else "").strip() or None
        for name, bound in (("min", low), ("max", high)):
            if bound is None:
                continue
            if kind == "date" and _date(bound) is None:
                errors[f"{where}.{name}"] = _("Please enter a date as YYYY-MM-DD.")
            elif kind != "date" and _number(bound) is None:
                errors[f"{where}.{name}"] = _("Please enter a number.")
        # Stored normalised (``01.01.2026`` -> ``2026-01-01``, ``1,5`` -> ``1.5``): submissions
        # compare with ``date.fromisoformat``/``Decimal``.
        if low is not None and f"{where}.min" not in errors:
            low = _date(low).isoformat() if kind == "date" else str(_number(low))  # type: ignore[union-attr]
        if high is not None and f"{where}.max" not in errors:
            high = _date(high).isoformat() if kind == "date" else str(_number(high))  # type: ignore[union-attr]
        out.append(Field(key=key, type=kind, label=label, help=_two(item.get("help")),
                         required=bool(item.get("required")), options=options, min_length=min_length,
                         max_length=max_length, pattern=pattern, min=low, max=high))
    if not errors and not any(f.type == "email" and f.required for f in out):
        errors["fields"] = _("A form needs a required e-mail field: the request is answered by e-mail.")
    if errors:
        raise DefinitionError(errors)
    return out


_REPEATS = {re._constants.MAX_REPEAT, re._constants.MIN_REPEAT,
            getattr(re._constants, "POSSESSIVE_REPEAT", re._constants.MAX_REPEAT)}


def _nested_quantifier(pattern: str) -> bool:
    """Does a repeated part of the pattern contain another repeat (``(a+)+``, ``(a*b?)*``)?
    Such patterns can take exponential time on a crafted input."""

    def walk(node: Any, repeated: bool) -> bool:
        if isinstance(node, re._parser.SubPattern):
            for op, av in node:
                if op in _REPEATS:
                    low, high, sub = av
                    if repeated and high > 1 and low != high:  # a fixed count like {3} is harmless
                        return True
                    if walk(sub, repeated or high > 1):
                        return True
                elif walk(av, repeated):
                    return True
            return False
        if isinstance(node, (list, tuple)):
            return any(walk(item, repeated) for item in node)
        return False

    try:
        return walk(re._parser.parse(pattern), False)
    except (re.error, RecursionError):
        return True


def fields_of(definition: Mapping[str, Any] | str) -> list[Field]:
    """The fields of a stored (already checked) definition."""
    import json

    data = json.loads(definition) if isinstance(definition, str) else definition
    return [Field(key=f["key"], type=f["type"], label=f.get("label") or {}, help=f.get("help") or {},
                  required=bool(f.get("required")),
                  options=tuple(Option(o["value"], o.get("label") or {}) for o in f.get("options") or []),
                  min_length=f.get("min_length"), max_length=f.get("max_length"), pattern=f.get("pattern"),
                  min=f.get("min"), max=f.get("max"))
            for f in data.get("fields", [])]


# --- visitors' values --------------------------------------------------------------------------

def normalise_phone(raw: str) -> str | None:
    """A phone number as E.164 (``+905321234567``); Turkish ways of writing it are accepted
    (``0532 123 45 67``, ``532 123 4567``, ``+90 (532) 123-45-67``, ``0090…``)."""
    try:
        number = phonenumbers.parse(raw, "TR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _number(raw: Any) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    text = str(raw).strip().replace(" ", "")
    if len(text) > NUMBER_TEXT_MAX:
        return None
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # Turkish decimal comma
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value.adjusted() > NUMBER_ADJUSTED_MAX:
        return None
    return value


def _date(raw: Any) -> date | None:
    text = str(raw).strip()
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)  # 22.11.2026, as Turks write it
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


def _truthy(raw: Any) -> bool:
    if isinstance(raw, list):
        raw = raw[-1] if raw else ""
    return raw is True or str(raw).strip().lower() in ("1", "on", "true", "yes", "evet")


def _as_list(raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    items = raw if isinstance(raw, list) else [raw]
    return [str(i).strip() for i in items if str(i).strip()]


def _scalar(raw: Any) -> str:
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    if raw is None or isinstance(raw, (dict, bool)):
        return ""
    return str(raw)


def _length_error(f: Field, value: str) -> str | None:
    limit = f.max_length or DEFAULT_MAX.get(f.type, 200)
    if f.pattern:
        limit = min(limit, PATTERN_INPUT_MAX)
    if len(value) > limit:
        return _("Please use at most %(n)s characters.", n=limit)
    if f.min_length and len(value) < f.min_length:
        return _("Please use at least %(n)s characters.", n=f.min_length)
    if f.pattern and not re.fullmatch(f.pattern, value):
        return _("Please check the format of this field.")
    return None


def check_value(f: Field, raw: Any, file_count: int = 0) -> tuple[Any, str | None]:
    """One field: the cleaned value and an error message (or None)."""
    if f.type == "file":
        if f.required and not file_count:
            return [], _("Please attach a file.")
        return [], None
    if f.type == "checkbox":
        value = _truthy(raw)
        return value, (_("Please tick this box to go on.") if f.required and not value else None)
    if f.type == "multi_choice":
        values = _as_list(raw)
        if f.required and not values:
            return values, _("Please choose at least one option.")
        allowed = {o.value for o in f.options}
        bad = [v for v in values if v not in allowed]
        return values, (_("Please choose from the options.") if bad else None)
    text = _scalar(raw).strip()
    if "\x00" in text:
        return text, _("This field contains characters that are not allowed.")
    if not text:
        return ("" if f.type != "number" else None), (_("This field is required.") if f.required else None)
    if f.type == "choice":
        ok = text in {o.value for o in f.options}
        return text, (None if ok else _("Please choose one of the options."))
    if f.type == "number":
        number = _number(text)
        if number is None:
            return text, _("Please enter a number.")
        if f.min is not None and number < Decimal(f.min):
            return text, _("Please enter a number of at least %(n)s.", n=f.min)
        if f.max is not None and number > Decimal(f.max):
            return text, _("Please enter a number of at most %(n)s.", n=f.max)
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if f.type == "date":
        day = _date(text)
        if day is None:
            return text, _("Please enter a date (DD.MM.YYYY).")
        if f.min and day < date.fromisoformat(f.min):
            return text, _("Please enter a date on or after %(d)s.", d=f.min)
        if f.max and day > date.fromisoformat(f.max):
            return text, _("Please enter a date on or before %(d)s.", d=f.max)
        return day.isoformat(), None
    if error := _length_error(f, text):
        return text, error
    if f.type == "email":
        from email_validator import EmailNotValidError, validate_email

        try:
            return validate_email(text, check_deliverability=False).normalized, None
        except EmailNotValidError:
            return text, _("Please enter a valid e-mail address.")
    if f.type == "phone":
        phone = normalise_phone(text)
        return (phone, None) if phone else (text, _("Please enter a valid phone number."))
    if f.type == "order_number":
        return (text.upper(), None) if ORDER_NUMBER.match(text) else (text, _("Please enter a valid order number."))
    return text, None


def validate(fields: list[Field], raw: Mapping[str, Any],
             file_counts: Mapping[str, int] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Every field of the form: the cleaned values and one message per bad field."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        value, error = check_value(f, raw.get(f.key), (file_counts or {}).get(f.key, 0))
        values[f.key] = value
        if error:
            errors[f.key] = error
    return values, errors


def display(f: Field, value: Any, lang: str) -> str:
    """A value as the ticket's text shows it (call it in ``use_locale(lang)``)."""
    if f.type == "checkbox":
        return _("Yes") if value else _("No")
    if f.type == "choice":
        return f.option_label(value, lang) if value else ""
    if f.type == "multi_choice":
        return ", ".join(f.option_label(v, lang) for v in value or [])
    if f.type == "file":
        return ", ".join(value or [])
    return "" if value is None else str(value)
