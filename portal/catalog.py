"""Message catalog tooling: which messages the code and templates use, and which lack Turkish.

Used by ``tests/unit/test_catalog.py`` (the suite fails on a missing Turkish translation)
and by ``python -m portal.catalog`` (updates the ``.po`` files after adding messages).
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from portal.i18n import CATALOG_DIR, LOCALES
from portal.settings import ROOT

METHOD_MAP = [
    ("portal/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
OPTIONS = {
    "templates/**.html": {"extensions": "jinja2.ext.i18n"},
    "templates/**.txt": {"extensions": "jinja2.ext.i18n"},
}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}


def extract() -> Catalog:
    catalog = Catalog(project="portal", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), METHOD_MAP, options_map=OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    ):
        if "node_modules" in filename or filename.startswith(".venv"):
            continue
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(locale: str) -> Path:
    return CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="portal")
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def missing(locale: str = "tr") -> list[str]:
    """Message ids used in the code that have no (non-fuzzy) translation in ``locale``."""
    catalog = load(locale)
    out = []
    for message in extract():
        if not message.id:
            continue
        existing = catalog.get(message.id)
        if existing is None or existing.fuzzy or not (
            all(existing.string) if isinstance(existing.string, tuple) else existing.string
        ):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def update() -> None:
    """Add new messages to each catalog (keeping translations), drop ones no longer used."""
    template = extract()
    for locale in LOCALES:
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, omit_header=False, no_location=True, sort_output=True, width=120)


if __name__ == "__main__":
    update()
    gaps = missing("tr")
    print(f"{len(gaps)} message(s) without a Turkish translation")  # noqa: T201
    sys.exit(0)
