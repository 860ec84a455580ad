"""Request form fields: what the builder may save and what visitors' values become (pure rules)."""

from __future__ import annotations

import pytest

from portal.forms.fields import DefinitionError, check_value, normalise_phone, parse_definition, validate
from portal.forms.service import origin_allowed, valid_origin_pattern
from portal.i18n import use_locale


def _field(kind: str, **extra):
    base = {"key": "x", "type": kind, "label": {"tr": "X", "en": "X"}, **extra}
    return parse_definition({"fields": [base, {"key": "email", "type": "email", "label": {"tr": "E", "en": "E"},
                                                "required": True}]})[0]


@pytest.mark.parametrize("raw", ["0532 123 45 67", "532 123 4567", "+90 (532) 123-45-67", "00905321234567",
                                 "05321234567", "+90 532 123 45 67"])
def test_turkish_mobile_numbers_are_stored_as_e164(raw):
    assert normalise_phone(raw) == "+905321234567"


def test_landlines_and_foreign_numbers_too_and_garbage_is_refused():
    assert normalise_phone("0212 555 15 55") == "+902125551555"
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"
    assert normalise_phone("12345") is None
    assert normalise_phone("abc") is None


CASES = [
    # type, rules, raw, expected value, error substring (en) or None
    ("text", {"required": True}, "", "", "required"),
    ("text", {"min_length": 3}, "ab", "ab", "at least 3"),
    ("text", {"max_length": 5}, "abcdef", "abcdef", "at most 5"),
    ("text", {"pattern": "[A-Z]{2}\\d+"}, "ab12", "ab12", "format"),
    ("text", {"pattern": "[A-Z]{2}\\d+"}, "AB12", "AB12", None),
    ("email", {}, "not-an-address", "not-an-address", "valid e-mail"),
    ("email", {}, "Ayse@Example.COM", "Ayse@example.com", None),
    ("phone", {}, "0532 123 45 67", "+905321234567", None),
    ("phone", {}, "123", "123", "valid phone"),
    ("textarea", {"min_length": 10}, "short", "short", "at least 10"),
    ("choice", {"options": [{"value": "a", "label": {"tr": "A"}}]}, "b", "b", "one of the options"),
    ("choice", {"options": [{"value": "a", "label": {"tr": "A"}}]}, "a", "a", None),
    ("multi_choice", {"options": [{"value": "a", "label": {"tr": "A"}}, {"value": "b", "label": {"tr": "B"}}]},
     ["a", "c"], ["a", "c"], "from the options"),
    ("multi_choice", {"required": True, "options": [{"value": "a", "label": {"tr": "A"}}]}, [], [], "at least one"),
    ("multi_choice", {"options": [{"value": "a", "label": {"tr": "A"}}, {"value": "b", "label": {"tr": "B"}}]},
     ["a", "b"], ["a", "b"], None),
    ("checkbox", {"required": True}, "", False, "tick"),
    ("checkbox", {"required": True}, "1", True, None),
    ("number", {"min": "1", "max": "10"}, "0", "0", "at least 1"),
    ("number", {"min": "1", "max": "10"}, "11", "11", "at most 10"),
    ("number", {}, "12,5", 12.5, None),
    ("number", {}, "on iki", "on iki", "a number"),
    ("date", {}, "22.11.2026", "2026-11-22", None),
    ("date", {}, "2026-02-30", "2026-02-30", "a date"),
    ("date", {"min": "2026-01-01"}, "2025-12-31", "2025-12-31", "on or after"),
    ("order_number", {}, "sp-10042", "SP-10042", None),
    ("order_number", {}, "<script>", "<script>", "valid order number"),
    ("file", {"required": True}, None, [], "attach"),
]


@pytest.mark.parametrize(("kind", "rules", "raw", "expected", "error"), CASES)
def test_each_field_type_checks_its_values(kind, rules, raw, expected, error):
    f = _field(kind, **rules)
    with use_locale("en"):
        value, message = check_value(f, raw)
    assert value == expected
    if error is None:
        assert message is None
    else:
        assert message and error in message, message


def test_errors_come_in_the_visitors_language():
    f = _field("text", required=True)
    with use_locale("tr"):
        _value, message = check_value(f, "")
    assert message == "Bu alan zorunludur."


def test_validate_returns_one_message_per_field():
    fields = parse_definition({"fields": [
        {"key": "name", "type": "text", "label": {"tr": "Ad"}, "required": True},
        {"key": "email", "type": "email", "label": {"tr": "E-posta"}, "required": True},
    ]})
    with use_locale("en"):
        values, errors = validate(fields, {"name": "Ayşe", "email": "x"})
    assert values["name"] == "Ayşe"
    assert set(errors) == {"email"}


def test_the_builder_refuses_broken_definitions():
    with pytest.raises(DefinitionError) as exc:
        parse_definition({"fields": [
            {"key": "Bad Key", "type": "text", "label": {"tr": "A"}},
            {"key": "token", "type": "text", "label": {"tr": "A"}},
            {"key": "c", "type": "rocket", "label": {"tr": "A"}},
            {"key": "d", "type": "choice", "label": {"tr": "A"}},
            {"key": "e", "type": "text", "label": {}, "pattern": "("},
            {"key": "f", "type": "number", "label": {"tr": "A"}, "min": "x"},
        ]})
    errors = exc.value.errors
    assert {"fields.0.key", "fields.1.key", "fields.2.type", "fields.3.options", "fields.4.label",
            "fields.4.pattern", "fields.5.min"} <= set(errors)


def test_a_form_needs_a_required_email_field():
    with pytest.raises(DefinitionError) as exc:
        parse_definition({"fields": [{"key": "name", "type": "text", "label": {"tr": "Ad"}}]})
    assert "fields" in exc.value.errors


@pytest.mark.parametrize(("pattern", "origin", "ok"), [
    ("http://localhost:*", "http://localhost:5173", True),
    ("http://localhost:*", "http://localhost", True),
    ("http://localhost:*", "https://localhost:5173", False),
    ("http://localhost:*", "http://localhost.evil.com:80", False),
    ("https://shop.example.com", "https://shop.example.com", True),
    ("https://shop.example.com", "https://shop.example.com:8443", False),
    ("https://*.example.com", "https://www.example.com", True),
    ("https://*.example.com", "https://example.com", False),
    ("https://*.example.com", "https://evilexample.com", False),
    ("https://shop.example.com", "null", False),
])
def test_allowed_origins(pattern, origin, ok):
    assert valid_origin_pattern(pattern)
    assert origin_allowed([pattern], origin) is ok


@pytest.mark.parametrize("pattern", ["localhost", "ftp://x.com", "https://x.com/path", "*", "https://x.com:99999",
                                     "https://x.com; script-src *"])
def test_origin_patterns_must_be_origins(pattern):
    assert not valid_origin_pattern(pattern)
