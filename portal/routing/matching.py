"""Which routing rule matches a ticket: pure functions over the ticket's facts.

A rule's ``conditions`` hold lists; a rule matches when every non-empty list matches (AND
between kinds, OR within one list). Words are matched in ``search_fold``-ed text (Turkish
case rules, no diacritics: ``İADE``, ``iade`` and ``İade`` are one word) at the start of a
word, so ``iade`` also finds ``iadesi`` and ``iadem`` (Turkish suffixes) but not ``fiyadesi``.
Rules are checked by position; a match is applied and, unless the rule says to go on
(``stop`` false), the later rules are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from portal.i18n import search_fold

CONDITION_KEYS: tuple[str, ...] = (
    "channels", "form_slugs", "words", "customer_tags", "segments", "languages", "order_statuses")


@dataclass(frozen=True)
class Facts:
    """What rules may look at, for a new ticket or a sample typed into the tester."""

    channel: str = "portal"
    form_slug: str | None = None
    subject: str = ""
    body: str = ""
    language: str = "tr"
    customer_tags: frozenset[str] = field(default_factory=frozenset)  # tag keys (search_fold)
    segment: str | None = None
    order_status: str | None = None


@lru_cache(maxsize=512)
def _word_re(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(search_fold(word).strip()))


def words_match(words: Iterable[str], text: str) -> bool:
    folded = search_fold(text)
    return any(_word_re(w).search(folded) for w in words if search_fold(w).strip())


def _in(values: Sequence[str] | None, value: str | None) -> bool:
    return not values or (value is not None and value in values)


def matches(conditions: dict, facts: Facts) -> bool:
    c = conditions or {}
    if not _in(c.get("channels"), facts.channel):
        return False
    if not _in(c.get("form_slugs"), facts.form_slug):
        return False
    if not _in(c.get("languages"), facts.language):
        return False
    if not _in(c.get("segments"), facts.segment):
        return False
    if not _in(c.get("order_statuses"), facts.order_status):
        return False
    wanted_tags = {search_fold(t) for t in c.get("customer_tags") or ()}
    if wanted_tags and not wanted_tags & facts.customer_tags:
        return False
    words = c.get("words") or ()
    return not words or words_match(words, f"{facts.subject}\n{facts.body}")


def first_match(rules: Iterable[dict], facts: Facts) -> dict | None:
    """The first active rule (in the order given) whose conditions hold, or None."""
    for rule in rules:
        if rule.get("active", True) and matches(rule["conditions"], facts):
            return rule
    return None


def matching_rules(rules: Iterable[dict], facts: Facts) -> list[dict]:
    """The rules that apply, in order: each active match, up to the first that stops."""
    found: list[dict] = []
    for rule in rules:
        if rule.get("active", True) and matches(rule["conditions"], facts):
            found.append(rule)
            if rule.get("stop", True):
                break
    return found
