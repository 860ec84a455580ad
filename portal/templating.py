"""The Jinja environments: one for pages (autoescape everywhere), one for mail
(autoescape for ``.html``, plain text for ``.txt``). Both share filters and gettext.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.visitor import NodeTransformer
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


_DICT_ATTRIBUTES = frozenset(dir(dict))


class PageEnvironment(jinja2.Environment):
    """The pages' environment: each template is compiled once per language, with the calls
    whose result is fixed for a language and a process worked out at compile time.

    ``{{ _("Log in") }}`` costs a ``context.call``, a catalog look-up, a ``Markup`` and a
    ``%`` on every render, and a page has dozens; here it becomes the translated text in the
    compiled code, exactly what the call would return (``_page_gettext``, escaped the same
    way). Only calls with one literal string argument and nothing else are folded, in
    templates that never bind the name themselves; ``constant_calls`` says which names
    (``_``, ``gettext``; ``asset`` when fingerprints cannot change, see ``portal/app.py``).
    Templates are cached per (name, language), so each language gets its own compiled code.
    ``_macros/`` is left alone: its module is a global shared by both languages.
    """

    unfolded_prefixes: tuple[str, ...] = ("_macros/",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.constant_calls: dict[str, Callable[[str], Any]] = {}

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> jinja2.Template:  # noqa: A002
        # Jinja's own, with the language in the cache key.
        if self.loader is None:
            raise TypeError("no loader for this environment specified")
        cache_key = (weakref.ref(self.loader), name, i18n.get_locale())
        if self.cache is not None:
            template = self.cache.get(cache_key)
            if template is not None and (not self.auto_reload or template.is_up_to_date):
                if globals:
                    template.globals.update(globals)
                return template
        template = self.loader.load(self, name, self.make_globals(globals))
        if self.cache is not None:
            self.cache[cache_key] = template
        return template

    def getattr(self, obj: Any, attribute: str) -> Any:
        # ``order.number`` on a row (a plain dict): Jinja tries the attribute first, and the
        # AttributeError it catches costs more than the look-up. A plain dict has no attributes
        # but its methods, so asking the key first gives the same answer.
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        if name is not None and self.constant_calls and not name.startswith(self.unfolded_prefixes):
            names = set(self.constant_calls) - _bound_names(tree)
            if names:
                _Folder(self, {n: self.constant_calls[n] for n in names}).visit(tree)
        return tree


def _bound_names(tree: nodes.Template) -> set[str]:
    """Names the template assigns itself (``set``, loop targets, macro parameters, imports)."""
    bound = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    bound.update(n.target for n in tree.find_all(nodes.Import))
    for node in tree.find_all(nodes.FromImport):
        bound.update(alias if isinstance(alias, str) else alias[1] for alias in node.names)
    return bound


class _Folder(NodeTransformer):
    def __init__(self, env: jinja2.Environment, calls: dict[str, Callable[[str], Any]]) -> None:
        self.env = env
        self.calls = calls

    def visit_Call(self, node: nodes.Call) -> nodes.Node:  # noqa: N802 - NodeVisitor's naming
        node = self.generic_visit(node)  # type: ignore[assignment]
        target, args = node.node, node.args
        if not (
            isinstance(target, nodes.Name)
            and target.name in self.calls
            and len(args) == 1
            and isinstance(args[0], nodes.Const)
            and isinstance(args[0].value, str)
            and not node.kwargs
            and node.dyn_args is None
            and node.dyn_kwargs is None
        ):
            return node
        try:
            value = self.calls[target.name](args[0].value)
        except Exception:  # noqa: BLE001 - e.g. an unknown asset: leave the error to render time
            return node
        if not isinstance(value, str):
            return node
        folded: nodes.Expr = nodes.Const(str(value))
        if isinstance(value, Markup):
            folded = nodes.MarkSafe(folded)
        return folded.set_lineno(node.lineno).set_environment(self.env)


def page_environment(*, base_url: str, static_url) -> PageEnvironment:
    env = PageEnvironment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        cache_size=1000,  # every template once per language
    )
    _install(env, base_url=base_url, static_url=static_url)
    # Jinja's newstyle gettext takes the template context (only to ask whether autoescape is on)
    # and ``_`` is an alias that calls it through the context again; inside a loop or block,
    # every such call copies the whole context first. A queue page makes ~200 ``_()`` calls:
    # that was most of its rendering time. Pages always autoescape, so these plain functions
    # do exactly what the newstyle ones do there (escape the variables, then format).
    env.globals.update(_=_page_gettext, gettext=_page_gettext, ngettext=_page_ngettext)
    env.constant_calls.update({"_": _page_gettext, "gettext": _page_gettext})
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
        auto_reload=False,  # as the pages: no stat() of the template file per mail rendered
    )
    _install(env, base_url=base_url, static_url=lambda name: f"{base_url}/static/{name}")
    return env


def template_names(folder: Path = TEMPLATE_DIR) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


__all__ = ["Markup", "page_environment", "mail_environment", "template_names"]
