"""The message catalogs are complete: every message the code and templates use has Turkish."""

from portal import catalog, i18n


def test_every_message_has_a_turkish_translation():
    missing = catalog.missing("tr")
    assert not missing, (
        f"{len(missing)} message(s) lack a Turkish translation; run `make i18n` and translate "
        f"portal/translations/tr/LC_MESSAGES/messages.po: {missing[:15]}"
    )


def test_turkish_is_served_and_english_is_the_source():
    with i18n.use_locale("tr"):
        assert i18n.gettext("Log in") != "Log in"
    with i18n.use_locale("en"):
        assert i18n.gettext("Log in") == "Log in"


def test_translations_keep_their_placeholders():
    import re

    placeholder = re.compile(r"%\(\w+\)[sd]")
    tr = catalog.load("tr")
    wrong = [m.id for m in tr if m.id and isinstance(m.id, str) and m.string
             and sorted(placeholder.findall(m.id)) != sorted(placeholder.findall(m.string))]
    assert not wrong, wrong[:10]
