"""Routing rule matching (pure): every condition kind, Turkish-aware words, first match wins."""

import pytest

from portal.routing.matching import Facts, first_match, matches, words_match
from portal.routing.service import next_round_robin


def rule(name="r", active=True, **conditions):
    return {"name": name, "active": active, "conditions": conditions}


@pytest.mark.parametrize("word, text, expected", [
    ("iade", "İADE etmek istiyorum", True),
    ("İADE", "iade talebi", True),
    ("İade", "Ürünün iadesi nasıl olur?", True),  # a suffix still matches
    ("iade", "fiyadesi", False),  # not in the middle of a word
    ("ışık", "ISIK yanmıyor", True),  # ı/I and diacritics fold
    ("fatura", "Faturamı bulamıyorum", True),
    ("invoice", "Where is my INVOICE?", True),
    ("return", "I want to ret urn", False),
    ("kargo takip", "Kargo   takip no", False),  # a phrase is matched as written
    ("kargo takip", "kargo takip no", True),
])
def test_words_are_matched_turkish_aware_at_word_start(word, text, expected):
    assert words_match([word], text) is expected


def test_each_condition_kind():
    facts = Facts(channel="form", form_slug="return-request", subject="İADE", body="Merhaba", language="tr",
                  customer_tags=frozenset({"vip"}), segment="champions", order_status="delivered")
    assert matches({}, facts)
    for key, yes, no in [
        ("channels", ["form", "email"], ["portal"]),
        ("form_slugs", ["return-request"], ["contact"]),
        ("words", ["iade"], ["fatura"]),
        ("customer_tags", ["VIP"], ["toptan"]),
        ("segments", ["champions", "loyal"], ["lost"]),
        ("languages", ["tr"], ["en"]),
        ("order_statuses", ["delivered"], ["shipped"]),
    ]:
        assert matches({key: yes}, facts), key
        assert not matches({key: no}, facts), key
        assert matches({key: []}, facts), key  # empty: any
    # Every filled condition must hold.
    assert not matches({"channels": ["form"], "languages": ["en"]}, facts)
    # Missing facts never match a condition that asks for them.
    bare = Facts()
    assert not matches({"segments": ["champions"]}, bare)
    assert not matches({"order_statuses": ["delivered"]}, bare)
    assert not matches({"form_slugs": ["contact"]}, bare)


def test_the_first_active_matching_rule_wins():
    facts = Facts(subject="Fatura ve iade")
    rules = [rule("off", active=False, words=["iade"]), rule("invoice", words=["fatura"]),
             rule("return", words=["iade"]), rule("all")]
    assert first_match(rules, facts)["name"] == "invoice"
    assert first_match(rules[2:], facts)["name"] == "return"
    assert first_match(rules[3:], Facts())["name"] == "all"
    assert first_match(rules[:1], facts) is None


def test_round_robin_order():
    assert next_round_robin([3, 5, 9], None) == 3
    assert next_round_robin([3, 5, 9], 3) == 5
    assert next_round_robin([3, 5, 9], 9) == 3
    assert next_round_robin([3, 5, 9], 4) == 5  # the last one left the team
    assert next_round_robin([3, 5, 9], 99) == 3


def test_rules_that_go_on_let_later_rules_apply_until_one_stops():
    from portal.routing.matching import matching_rules

    facts = Facts(subject="iade", segment="champions")
    rules = [{**rule("vip", segments=["champions"]), "stop": False}, {**rule("return", words=["iade"]), "stop": True},
             rule("all")]
    assert [r["name"] for r in matching_rules(rules, facts)] == ["vip", "return"]
    assert [r["name"] for r in matching_rules(rules, Facts(subject="x"))] == ["all"]
    assert matching_rules([], facts) == []
