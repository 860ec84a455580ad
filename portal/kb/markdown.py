"""Article Markdown → sanitised HTML, plain text and a table of contents.

markdown-it-py (CommonMark plus tables and strikethrough) renders; nh3 then keeps only an
explicit allow-list: no script, style, iframe, form or event handler, links only to
http/https/mailto or relative URLs, every link with ``rel="noopener noreferrer"``. Images keep
their ``src`` only when it is one of our own article images (``/kb/files/{key}/{name}``, see
:mod:`portal.kb.images`): no ``javascript:``/``data:`` and no outside address that would tell
another site who reads what (the page's CSP would block those anyway). Raw HTML in the
Markdown goes through the same filter, so ``<img src=x onerror=…>`` arrives as a harmless
``<img>``. Rendering happens once, when an article is saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from portal.i18n import search_fold

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "mark", "ol",
    "p", "pre", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# Gone with everything inside them (other unknown tags lose the tag and keep their text).
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript", "textarea",
                        "select", "svg", "math"}
# The only image addresses kept: our own uploaded article images.
IMAGE_SRC = re.compile(r"^/kb/files/[A-Za-z0-9_-]{20,64}/[A-Za-z0-9_-][A-Za-z0-9._-]{0,159}$")
# Headings are ids in the page; a prefix keeps them from clobbering the page's own ids.
ID_PREFIX = "kb-"

_md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable(["table", "strikethrough"])
_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
_BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|td|th|tr|pre|blockquote|div|dd|dt|figcaption|summary)>|<br\s*/?>",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str  # plain text of the body: snippets and the search index
    toc: list[list] = field(default_factory=list)  # [level, id, text] of h2/h3 headings


def slugify(text: str, fallback: str = "section") -> str:
    """An ASCII slug for URLs and heading ids: ``İade koşulları`` → ``iade-kosullari``."""
    slug = _SLUG_CHARS.sub("-", search_fold(text)).strip("-")
    return slug[:80].strip("-") or fallback


def _inline_text(token: Token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def _number_headings(tokens: list[Token]) -> list[list]:
    """Give every heading an id (unique within the article); list the h2/h3 ones."""
    toc: list[list] = []
    used: set[str] = set()
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        text = _inline_text(tokens[i + 1]).strip()
        base = slugify(text)
        slug, n = base, 2
        while slug in used:
            slug, n = f"{base}-{n}", n + 1
        used.add(slug)
        token.attrSet("id", ID_PREFIX + slug)
        level = int(token.tag[1])
        if level in (2, 3) and text:
            toc.append([level, ID_PREFIX + slug, text])
    return toc


def plain_text(html: str) -> str:
    """The visible text of sanitised HTML, one line per block."""
    spaced = _BLOCK_END.sub(lambda m: m.group(0) + "\n", html)
    text = unescape(nh3.clean(spaced, tags=set()))
    return re.sub(r"\s*\n\s*", "\n", re.sub(r"[ \t]+", " ", text)).strip()


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not IMAGE_SRC.match(value):
        return None
    return value


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        id_prefix=ID_PREFIX,
        attribute_filter=_attribute_filter,
    )


def render(markdown: str) -> Rendered:
    tokens = _md.parse(markdown or "")
    # h1 belongs to the page (the article title): demote "# x" to h2.
    for token in tokens:
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"
    toc = _number_headings(tokens)
    html = sanitize(_md.renderer.render(tokens, _md.options, {}))
    return Rendered(html=html, text=plain_text(html), toc=toc)
