"""Showing what people wrote: plain text, escaped, with line breaks, and http(s) links.

Message bodies are stored exactly as typed and never interpreted: no HTML, no Markdown, no
template syntax. ``[x](javascript:alert(1))`` stays those characters; only bare http(s)
URLs become links, and those open without a referrer.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# A URL runs to the next space or angle bracket; trailing punctuation is not part of it.
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def _split_url(url: str) -> tuple[str, str]:
    tail = ""
    while url and url[-1] in _TRAILING:
        # Keep a closing bracket that has its opening one in the URL (Wikipedia links).
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        tail = url[-1] + tail
        url = url[:-1]
    return url, tail


def body_html(text: str) -> Markup:
    """Escaped text with ``<br>`` for line breaks and ``<a>`` for http(s) URLs."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text or ""):
        url, tail = _split_url(m.group(0))
        out.append(str(escape(text[pos:m.start()])))
        if len(url) > len("https://"):
            out.append(f'<a href="{escape(url)}" rel="noopener noreferrer nofollow ugc" target="_blank">'
                       f"{escape(url)}</a>")
        else:
            out.append(str(escape(url)))
        out.append(str(escape(tail)))
        pos = m.end()
    out.append(str(escape((text or "")[pos:])))
    html = "".join(out).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>\n")
    return Markup(html)  # noqa: S704 - every piece above was escaped


def excerpt(text: str, length: int = 160) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


_PLACEHOLDER = re.compile(r"\{\{\s*(customer_name|order_number)\s*\}\}")


def fill_placeholders(body: str, *, customer_name: str, order_number: str) -> str:
    """Canned replies: ``{{ customer_name }}`` and ``{{ order_number }}`` by plain string
    replacement, in one pass (a name containing ``{{ order_number }}`` stays as typed).
    Nothing else is interpreted: the text is never rendered as a template."""
    values = {"customer_name": customer_name, "order_number": order_number}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], body)
