"""Search text, the same on both databases: words, folded and stemmed in Python.

Both the articles (at save) and every query go through :func:`terms`, so ``İADE``, ``iade``
and ``İade`` meet as ``iade``, ``IŞIK`` and ``ışık`` as ``isik``, ``sipariş`` and ``siparis``
as ``siparis``. The databases only see space-separated plain words: SQLite's FTS5 and
PostgreSQL's ``simple`` text-search configuration then tokenize them identically, and
neither engine's own idea of lower case (ASCII-only in SQLite, locale-dependent in
PostgreSQL) ever comes into play.

Stemming. Snowball's Turkish stemmer was tried and rejected: it is not stable on its own
output (``iadeler`` → ``iade`` but ``iade`` → ``ia``; ``faturalar`` → ``fatura`` but
``fatura`` → ``fatur``), so a word and its plural miss each other. :func:`stems_tr` is a
small noun-ending stripper on *folded* text (plural, possessive, case endings, consonant
softening) that keeps every reading it cannot rule out: an article word is indexed under
all its possible stems, a query word matches any of its own. It over-matches a little,
which for search means a few extra results, never a missed inflection. English uses
Snowball's English stemmer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import snowballstemmer

from portal.i18n import search_fold

MAX_TERM = 40  # longer "words" (hashes, base64) are not searched for
_WORD = re.compile(r"[^\W_]+")

# Folded Turkish noun endings (ı→i, ü→u, ö→o, ş→s, ç→c, ğ→g already applied), so each
# harmony pair collapses: -ler/-lar, -de/-da/-te/-ta, -in/-un (-ın/-ün), … Each comes with
# what the word before it must end in, which is what keeps sipariş-i from reading as
# sipar-iş-i: vowel-initial endings follow a consonant, buffered ones (-si, -ye, -nin) a vowel.
_VOWELS = frozenset("aeiou")
_VOICELESS = frozenset("pctkfhs")
_AFTER_CONSONANT = ("im", "um", "in", "un", "imiz", "umuz", "iniz", "unuz", "e", "a", "i", "u")
_AFTER_VOWEL = ("si", "su", "ye", "ya", "yi", "yu", "nin", "nun", "yle", "yla", "m", "n", "miz", "muz",
                "niz", "nuz")
_AFTER_POSSESSIVE = ("ni", "nu", "ne", "na", "nde", "nda", "nden", "ndan")  # iade-si-ni, sipariş-i-nde
_AFTER_VOICELESS = ("te", "ta", "ten", "tan")
_ANYWHERE = ("ler", "lar", "leri", "lari", "de", "da", "den", "dan", "le", "la")
_SUFFIXES: tuple[tuple[str, frozenset[str] | None], ...] = (
    *((s, frozenset("bcdfghjklmnprstvyz")) for s in _AFTER_CONSONANT),
    *((s, _VOWELS) for s in _AFTER_VOWEL),
    *((s, frozenset("iu")) for s in _AFTER_POSSESSIVE),
    *((s, _VOICELESS) for s in _AFTER_VOICELESS),
    *((s, None) for s in _ANYWHERE),
)
_SOFTENED = {"b": "p", "d": "t", "g": "k"}  # hesab-ı → hesap, reng-i → renk


def _strips(word: str) -> Iterator[str]:
    """Every word one noun ending shorter than ``word``."""
    for suffix, before in _SUFFIXES:
        if not word.endswith(suffix):
            continue
        rest = word[: -len(suffix)]
        # A single letter comes off only a longer word (iade stays iade, not iad).
        if len(rest) < (4 if len(suffix) == 1 else 3) or not _VOWELS.intersection(rest):
            continue
        if before is None or rest[-1] in before:
            yield rest


@lru_cache(maxsize=200_000)
def stems_tr(word: str) -> frozenset[str]:
    """The possible stems of one folded Turkish word, itself included.

    Without a dictionary ``ürünü`` may be ürün-ü or ürü-nü: both are kept. An article word
    is indexed under all of its stems and a query word matches any of its own, so an
    inflected word and its base form always meet (the price is a few extra matches).
    """
    found = {word}
    if len(word) < 4 or not word.isalpha():
        return frozenset(found)
    frontier = [word]
    for _depth in range(4):
        frontier = [shorter for w in frontier for shorter in _strips(w) if shorter not in found]
        found.update(frontier)
        if not frontier:
            break
    found.update(w[:-1] + _SOFTENED[w[-1]] for w in list(found) if w[-1] in _SOFTENED and len(w) > 3)
    return frozenset(found)


_english = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem_en(word: str) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    return _english.stemWord(word)


def stems(word: str, lang: str) -> frozenset[str]:
    """The word and its stems in ``lang``."""
    if lang == "en":
        return frozenset({word, stem_en(word)})
    return stems_tr(word)


def words(text: str) -> Iterator[tuple[int, int, tuple[str, ...]]]:
    """Each word of ``text`` as (start, end, its folded parts), positions in ``text``.

    Folding can split a word (``½`` → ``1⁄2``) but never joins two, so a hit on any part
    highlights the whole original word.
    """
    for match in _WORD.finditer(text):
        parts = word_parts(match.group())
        if parts:
            yield match.start(), match.end(), parts


@lru_cache(maxsize=200_000)
def word_parts(word: str) -> tuple[str, ...]:
    """The folded parts of one word (cached: texts repeat their words)."""
    return tuple(p for p in _WORD.findall(search_fold(word)) if len(p) <= MAX_TERM)


def folded_words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text)
    return [part for _s, _e, parts in words(text) for part in parts]


def index_text(text: str, lang: str) -> str:
    """What the full-text index stores for ``text``: every folded word, followed by its stem
    when that differs (the word itself serves search-as-you-type prefixes, the stem serves
    whole-word queries)."""
    out: list[str] = []
    for word in folded_words(text):
        out.append(word)
        out.extend(sorted(stems(word, lang) - {word}))
    return " ".join(out)
