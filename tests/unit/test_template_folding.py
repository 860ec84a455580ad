"""Pages are compiled once per language with ``_("…")`` and ``asset("…")`` worked out at
compile time (``portal.templating.PageEnvironment``): the HTML must be exactly what the calls
give at render time, in each language, and nothing may be folded that could differ."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import jinja2
import pytest

from portal import i18n
from portal.templating import PageEnvironment, page_environment

SOURCES = [  # as tests/unit/test_page_gettext.py, and more
    '{{ _("Log in") }}',
    '{{ _("Order %(number)s", number=n) }}',
    "{% for x in [1, 2] %}{{ _('Select %(ref)s', ref=html ~ x) }}{% endfor %}",
    "{% trans %}Log in{% endtrans %}",
    "{% trans name=html %}Hello {{ name }}{% endtrans %}",
    '{{ ngettext("%(num)s ticket", "%(num)s tickets", k) }}',
    '{{ _("100%% sure") }}',
    '<a title="{{ _("Log out") }}">{{ _("Log in")|upper }}</a>',
    '{% set label = _("My orders") %}{{ label }} {{ label ~ "<" }}',
    '{{ f(_("Log in")) }}',
    "{{ gettext('Log in') }}",
    '{{ _("No translation for this <b>one</b> & that") }}',
]


def _newstyle() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


def _folding_env(sources: dict[str, str], *, fold: bool = True) -> PageEnvironment:
    env = page_environment(base_url="http://portal.test", static_url=str)
    env.loader = jinja2.DictLoader(sources)
    env.globals.update(asset=lambda name: f"/assets/{name}.abc", f=lambda value: f"[{value}]")
    if fold:
        env.constant_calls["asset"] = env.globals["asset"]
    else:
        env.constant_calls.clear()
    return env


@pytest.mark.parametrize("locale", i18n.LOCALES)
@pytest.mark.parametrize("source", SOURCES)
def test_folded_pages_render_as_the_calls_do(source: str, locale: str) -> None:
    context = {"n": "SP-1", "html": "<b>x</b>", "k": 3}
    folded, plain = _folding_env({"page.html": source}), _folding_env({"page.html": source}, fold=False)
    reference = _newstyle()
    reference.globals["f"] = plain.globals["f"]
    with i18n.use_locale(locale):
        expected = reference.from_string(source).render(context)
        assert plain.get_template("page.html").render(context) == expected
        assert folded.get_template("page.html").render(context) == expected


def test_a_literal_call_becomes_text_in_the_compiled_code() -> None:
    env = _folding_env({})
    with i18n.use_locale("tr"):
        code = env.compile('<p>{{ _("Log in") }}</p><link href="{{ asset("app.css") }}">', name="x.html", raw=True)
    assert "context.call" not in code
    assert "/assets/app.css.abc" in code
    assert i18n.translations("tr").ugettext("Log in") in code


def test_each_language_has_its_own_compiled_template() -> None:
    env = _folding_env({"page.html": '{{ _("Log in") }}'})
    seen = {}
    for locale in ("tr", "en", "tr"):
        with i18n.use_locale(locale):
            seen.setdefault(locale, set()).add(env.get_template("page.html").render())
    assert seen == {"tr": {i18n.translations("tr").ugettext("Log in")}, "en": {"Log in"}}
    assert seen["tr"] != seen["en"]


@pytest.mark.parametrize(
    "source",
    [
        '{% set _ = f %}{{ _("Log in") }}',
        '{% macro m(_) %}{{ _("Log in") }}{% endmacro %}{{ m(f) }}',
        '{% for _ in [f] %}{{ _("Log in") }}{% endfor %}',
        '{% from "other.html" import g as _ %}{{ _("Log in") }}',
    ],
)
def test_a_template_that_binds_the_name_itself_is_not_folded(source: str) -> None:
    env = _folding_env({"page.html": source, "other.html": "{% macro g(x) %}[{{ x }}]{% endmacro %}"})
    with i18n.use_locale("tr"):
        assert env.get_template("page.html").render().strip() == "[Log in]"


def test_calls_with_variables_or_unknown_assets_stay_calls() -> None:
    env = _folding_env({"page.html": '{{ _("Order %(number)s", number=n) }}', "bad.html": '{{ asset("nope.css") }}'})

    def missing(name: str) -> str:
        raise LookupError(name)

    env.globals["asset"] = env.constant_calls["asset"] = missing
    with i18n.use_locale("en"):
        assert env.get_template("page.html").render(n="<SP-1>") == "Order &lt;SP-1&gt;"
        with pytest.raises(LookupError):  # still an error at render time, as before
            env.get_template("bad.html").render()


def test_rows_read_like_jinja_reads_them() -> None:
    class Row(dict):
        extra = "attribute"

    env = _folding_env(
        {
            "page.html": "{{ r.number }}|{{ r.missing is undefined }}|{{ r['keys'] }}|"
            "{{ r.keys is callable }}|{{ r.items is callable }}|{{ s.extra }}|{{ s.number }}"
        }
    )
    row = {"number": "BN-1", "keys": "k", "items": [1]}
    out = env.get_template("page.html").render(r=row, s=Row(number="BN-2"))
    assert out == "BN-1|True|k|True|True|attribute|BN-2"


ORDER = {
    "number": "BN-000001", "status": "shipped", "total": Decimal("1234.50"), "currency": "TRY",
    "placed_at": datetime(2026, 11, 20, 9, 30, tzinfo=UTC), "carrier": "yurtici", "carrier_name": "Yurtiçi Kargo",
    "tracking_number": "YK123", "tracking_url": "https://example.test/track?n=YK123",
    "estimated_delivery": date(2026, 11, 24), "shipping_address": "Bağdat Cd. 1 <Kadıköy>",
    "email": "ayse@example.test", "customer_name": "Ayşe",
}  # fmt: skip


@pytest.mark.parametrize("locale", i18n.LOCALES)
@pytest.mark.parametrize(
    "name",
    [
        "customer/orders/detail.html",
        "customer/orders/track.html",
        "customer/home.html",
        "customer/login.html",
        "kb/search.html",
    ],
)
def test_real_pages_are_the_same_html_folded_or_not(name: str, locale: str) -> None:
    from portal.customer.orders import _details
    from portal.web import Form

    def environment(fold: bool) -> PageEnvironment:
        env = page_environment(base_url="http://portal.test", static_url=str)
        env.globals.update(asset=lambda n: f"/assets/{n}.abc", csrf_token=lambda: "TOKEN")
        if fold:
            env.constant_calls["asset"] = env.globals["asset"]
        else:
            env.constant_calls.clear()
        return env

    events = [{"id": i, "kind": kind, "status": status, "note": note, "carrier": "yurtici", "tracking_number": "YK1",
               "actor": "", "created_at": datetime(2026, 11, 20, 10 + i, tzinfo=UTC), "carrier_name": "Yurtiçi"}
              for i, (kind, status, note) in enumerate([("created", "received", ""), ("status", "shipped", "a <b>"),
                                                        ("shipment", None, ""), ("note", None, "n")])]  # fmt: skip
    items = [{"position": 1, "sku": "S-1", "name": "Çay <1 kg>", "quantity": 2, "unit_price": Decimal("10.00"),
              "line_total": Decimal("20.00")}]  # fmt: skip
    context = {"customer": {"id": 1, "name": "Ayşe <Y>", "email": "a@example.test"}, "staff": None,
               "locale": locale, "flashes": [["success", "Saved <ok>"]], "csrf_input": '<input name="_csrf_token">',
               "request": {"url": {"path": "/orders/BN-000001"}}, "form": Form({}), "q": "kargo <x>",
               "results": [], "next": "/", **_details({**ORDER, "items": items, "events": events})}  # fmt: skip
    with i18n.use_locale(locale):
        folded = environment(True).get_template(name).render(context)
        plain = environment(False).get_template(name).render(context)
    assert folded == plain
    assert "Ayşe &lt;Y&gt;" in folded
