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
                                     "https://x.com\n", "https://*.com", "http://*.localhost:*",
                                     "https://x.com; script-src *"])
def test_origin_patterns_must_be_origins(pattern):
    assert not valid_origin_pattern(pattern)


def test_a_trailing_newline_does_not_pass_for_an_origin():
    assert not origin_allowed(["https://shop.example.com"], "https://shop.example.com\n")


@pytest.mark.parametrize("raw", ["1e600000", "1e5000", "9" * 17, "1" * 41, "-1e16", "1e-5" + "0" * 40])
def test_huge_or_overlong_numbers_are_an_error_not_a_cpu_burn(raw):
    import json
    import time

    started = time.process_time()
    with use_locale("en"):
        value, error = check_value(_field("number"), raw)
    assert error == "Please enter a number." and value == raw
    json.dumps(value)  # what payload_hash does with it
    assert time.process_time() - started < 1


def test_the_largest_numbers_still_taken():
    assert check_value(_field("number"), "999999999999999") == (999999999999999, None)
    assert check_value(_field("number"), "1e15") == (10**15, None)


def test_bounds_written_the_turkish_way_are_stored_normalised_and_used():
    day = _field("date", min="01.01.2026", max="31.12.2026")
    assert (day.min, day.max) == ("2026-01-01", "2026-12-31")
    assert check_value(day, "15.06.2026") == ("2026-06-15", None)
    with use_locale("en"):
        assert "on or after" in check_value(day, "31.12.2025")[1]
    count = _field("number", min="1,5", max=" 10 ")
    assert (count.min, count.max) == ("1.5", "10")
    assert check_value(count, "2") == (2, None)
    with use_locale("en"):
        assert "at least" in check_value(count, "1")[1]
    with pytest.raises(DefinitionError) as refused:
        _field("number", min="1e600000")
    assert "fields.0.min" in refused.value.errors


@pytest.mark.parametrize("pattern", ["(a+)+", "(a*b?)*$", "(?:x|y+)*", "(a{2,})+", "(.*a){20}"])
def test_patterns_with_nested_quantifiers_are_refused(pattern):
    with pytest.raises(DefinitionError) as refused:
        _field("text", pattern=pattern)
    assert "fields.0.pattern" in refused.value.errors


@pytest.mark.parametrize("pattern", ["[0-9]{4}", "(\\d{3}-)+\\d{2}", "[A-Z]{2}\\d+", "(ab|cd)*"])
def test_ordinary_patterns_are_kept(pattern):
    assert _field("text", pattern=pattern).pattern == pattern


def test_a_pattern_sees_at_most_500_characters():
    f = _field("textarea", pattern="[a-z ]*")
    assert check_value(f, "a" * 500) == ("a" * 500, None)
    with use_locale("en"):
        value, error = check_value(f, "a" * 501)
    assert error == "Please use at most 500 characters."
    short = _field("text", pattern="[a-z]*", max_length=20)
    with use_locale("en"):
        assert check_value(short, "a" * 21)[1] == "Please use at most 20 characters."


@pytest.mark.parametrize("data", [
    {"algorithm": "SHA-256", "challenge": "x", "number": 1, "salt": 5, "signature": "s"},
    {"algorithm": "SHA-256", "challenge": "x", "number": "1", "salt": "a?t=n", "signature": "s"},
    {"algorithm": ["SHA-256"], "challenge": "x", "number": 1, "salt": "a", "signature": "s"},
    ["not", "an", "object"], "text", None,
])
def test_a_malformed_altcha_payload_is_not_verified(data):
    import base64
    import json

    from portal.forms import altcha

    payload = base64.b64encode(json.dumps(data).encode()).decode()
    assert altcha.verify("s" * 32, payload, "n") is False
    assert altcha.verify("s" * 32, "%%%not base64", "n") is False


def test_parse_int_takes_ascii_digits_within_bounds_only():
    from portal.web import INT4_MAX, parse_int

    assert parse_int("42") == 42 and parse_int(" 7 ") == 7 and parse_int("-3", lo=-5) == -3
    assert parse_int(str(INT4_MAX)) == INT4_MAX and parse_int(str(INT4_MAX + 1)) is None
    for odd in (None, "", "--3", "-", "²", "١٢", "1_0", "+4", "3.0", "1e3", "9" * 40):
        assert parse_int(odd) is None, odd
    assert parse_int("-3") is None and parse_int("6", lo=1, hi=5) is None and parse_int("0", lo=1) is None
