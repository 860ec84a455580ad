"""Search text: Turkish folding and the noun-ending stemmer (no database)."""

import pytest

from portal.i18n import search_fold
from portal.kb.search import Highlighter, parse
from portal.kb.text import index_text, stems, stems_tr, words

FAMILIES = {
    "iade": [
        "iadeler",
        "İADE",
        "İade",
        "iadesi",
        "iadem",
        "iadeye",
        "iadeyi",
        "iadelerim",
        "iadede",
        "iadeden",
        "iadenin",
        "iadeniz",
        "iadesini",
        "iadesinde",
    ],
    "siparis": [
        "sipariş",
        "SİPARİŞ",
        "siparişlerim",
        "siparisler",
        "siparişim",
        "siparişiniz",
        "siparişi",
        "siparişe",
        "siparişin",
        "siparişinde",
        "siparişleriniz",
        "siparişten",
        "siparişini",
    ],
    "kargo": ["kargolar", "kargom", "kargonuz", "kargoya", "kargoda", "kargodan", "kargonun", "kargosu"],
    "odeme": ["ödeme", "ÖDEME", "ödemeler", "ödemesi", "ödemenin", "ödemeyi"],
    "hesap": ["hesabım", "hesaplar", "hesabınız", "hesabı", "hesaba", "hesapta", "hesaptan"],
    "isik": ["ışık", "IŞIK", "Işık", "ışıklar", "ışığı"],
    "istanbul": ["İSTANBUL", "İstanbul", "İstanbulda", "ISTANBUL"],
    "fatura": ["faturalar", "faturası", "faturayı", "faturam"],
    "urun": ["ürün", "ürünler", "ürünü", "ürünün", "ürününüz"],
    "adres": ["adresim", "adresi", "adresler", "adresinizi", "adresten"],
}


@pytest.mark.parametrize(("base", "forms"), FAMILIES.items())
def test_inflected_forms_reach_the_base(base, forms):
    for form in forms:
        assert base in stems_tr(search_fold(form)), form
    assert stems_tr(base) == {base} or base in stems_tr(base)


def test_base_words_are_not_mangled():
    for word in ("iade", "kargo", "hesap", "siparis", "istanbul", "teslimat", "kart"):
        assert stems_tr(word) == {word}
    assert stems_tr("ve") == {"ve"} and stems_tr("12345") == {"12345"}


def test_english_uses_snowball():
    assert stems("returns", "en") == {"returns", "return"}
    assert stems("shipping", "en") == {"shipping", "ship"}


def test_index_text_is_plain_words():
    text = index_text("İADELER: kargo-ücreti (IŞIK) 'x' \"y\" * AND NEAR", "tr")
    assert text.split()[:3] == ["iadeler", "iade", "kargo"]
    assert all(word.isalnum() for word in text.split())


def test_parse_strips_syntax_and_marks_the_prefix():
    query = parse('"İADE" AND kar', "tr")
    assert [t.exact for t in query.terms][0] == ("iade",)
    assert query.terms[-1].prefix == "kar" and query.terms[0].prefix is None
    assert parse("kargo ", "tr").terms[-1].prefix is None
    assert parse("k", "tr").terms[0].prefix is None  # too short for a prefix
    assert not parse("  \x00 *** ", "tr")
    assert len(parse("kelime " * 500, "tr").terms) == 10


def test_stop_words_are_dropped_when_other_words_remain():
    assert [t.exact[0] for t in parse("iade ve kargo ", "tr").terms] == ["iade", "kargo"]
    assert parse("the returns ", "en").folded == "returns"
    assert parse("ve ", "tr").folded == "ve"  # nothing else: searched as it is
    assert parse("kargo ve", "tr").terms[-1].prefix == "ve"  # still typing: may become "veri"


def test_fast_highlighting_agrees_with_word_by_word():
    fast_path = "İADELER için kargo; hesabınız ve ŞİFRENİZ. Işıklı ürünü ucuza, Hesabı açık."
    slow_path = fast_path + " ½ fiyata"  # ½ folds into three characters: the word-by-word path
    for text in (fast_path, slow_path):
        for q in ("iade", "hesap", "sifre", "isik", "urun", "kar", "ac"):
            h = Highlighter(parse(q, "tr"))
            expected = [(s, e) for s, e, parts in words(text) if h.hits(parts)]
            assert h._hit_spans(text) == expected, (q, text)
            assert expected or q == "ac"
