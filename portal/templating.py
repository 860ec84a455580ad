"""The Jinja environments: one for pages (autoescape everywhere), one for mail
(autoescape for ``.html``, plain text for ``.txt``). Both share filters and gettext.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup

from portal import i18n
from portal.settings import ROOT

TEMPLATE_DIR = ROOT / "templates"


def _install(env: jinja2.Environment, *, base_url: str, static_url) -> None:
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        datetime=i18n.format_datetime,
        date=i18n.format_date,
        money=i18n.format_money,
        number=i18n.format_number,
        timedelta=i18n.format_timedelta,
        tr_upper=i18n.tr_upper,
        tr_lower=i18n.tr_lower,
    )
    env.globals.update(
        base_url=base_url,
        static=static_url,
        get_locale=i18n.get_locale,
        LOCALES=i18n.LOCALES,
    )


def page_environment(*, base_url: str, static_url) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    _install(env, base_url=base_url, static_url=static_url)
    # Jinja's newstyle gettext takes the template context (only to ask whether autoescape is on)
    # and ``_`` is an alias that calls it through the context again; inside a loop or block,
    # every such call copies the whole context first. A queue page makes ~200 ``_()`` calls:
    # that was most of its rendering time. Pages always autoescape, so these plain functions
    # do exactly what the newstyle ones do there (escape the variables, then format).
    env.globals.update(_=_page_gettext, gettext=_page_gettext, ngettext=_page_ngettext)
    # The form macros are globals too: an htmx request renders one block of a template, and a
    # block cannot see an ``{% import %}`` at the top of its file (jinja2-fragments renders
    # the block alone). Templates may still import them as ``f``; both resolve to the same macros.
    macros = env.get_template("_macros/forms.html").module
    env.globals.update(f=macros, forms=macros)
    return env


def _page_gettext(__string: str, **variables: object) -> Markup:
    return Markup(i18n.gettext(__string)) % variables  # noqa: S704 - our catalogs, as Jinja's own gettext


def _page_ngettext(__singular: str, __plural: str, __num: int, **variables: object) -> Markup:
    variables.setdefault("num", __num)
    return Markup(i18n.ngettext(__singular, __plural, __num)) % variables  # noqa: S704 - as above


def mail_environment(*, base_url: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR / "mail")),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    _install(env, base_url=base_url, static_url=lambda name: f"{base_url}/static/{name}")
    return env


def template_names(folder: Path = TEMPLATE_DIR) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


__all__ = ["Markup", "page_environment", "mail_environment", "template_names"]
