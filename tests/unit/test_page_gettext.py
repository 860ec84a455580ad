"""The page environment's plain gettext functions render exactly like Jinja's newstyle ones."""

from __future__ import annotations

import jinja2
import pytest

from portal import i18n
from portal.templating import page_environment

SOURCES = [
    '{{ _("Log in") }}',
    '{{ _("Order %(number)s", number=n) }}',
    '{{ _("Order %(number)s", number=html) }}',
    "{% for x in [1, 2] %}{{ _('Select %(ref)s', ref=html ~ x) }}{% endfor %}",
    "{% trans %}Log in{% endtrans %}",
    "{% trans name=html %}Hello {{ name }}{% endtrans %}",
    '{{ ngettext("%(num)s ticket", "%(num)s tickets", k) }}',
    '{{ _("100%% sure") }}',
]


def _newstyle() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


@pytest.mark.parametrize("locale", i18n.LOCALES)
@pytest.mark.parametrize("source", SOURCES)
def test_same_output_as_newstyle_gettext(source: str, locale: str) -> None:
    fast = page_environment(base_url="http://portal.test", static_url=str)
    context = {"n": "SP-1", "html": "<b>x</b>", "k": 3}
    with i18n.use_locale(locale):
        expected = _newstyle().from_string(source).render(context)
        assert fast.from_string(source).render(context) == expected
    assert "<b>" not in expected
