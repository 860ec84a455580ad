"""Article Markdown is rendered and sanitised: nothing that runs script survives."""

import re

import pytest

from portal.kb.markdown import render, slugify

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil/x.js></SCRIPT>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;avascript:alert(1))",
    "[click](java\tscript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;&#97;vascript:alert(1)">x</a>',
    '<a href=" JAVASCRIPT:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "![x](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    '<img src="x" ONERROR="alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=//evil></iframe>",
    '<p onclick=alert(1) style="background:url(javascript:alert(1))">p</p>',
    "<style>body{display:none}</style>",
    "<form action=//evil><input name=x></form>",
    "<object data=x></object><embed src=x>",
    "<math><mtext><script>alert(1)</script></mtext></math>",
    "<details open ontoggle=alert(1)>x</details>",
    "<a href=x onmouseover=alert(1)>x</a>",
    "<base href=//evil/>",
    "<meta http-equiv=refresh content='0;url=//evil'>",
    "<!-- <script>alert(1)</script> -->",
    '<div id="main" class="x">clobber</div>',
]


BAD_URL = re.compile(r"""(href|src)\s*=\s*["']?\s*(javascript|vbscript|data):""")
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=")


@pytest.mark.parametrize("source", HOSTILE)
def test_nothing_executable_survives(source):
    html = render(source).html.lower()
    assert not BAD_URL.search(html) and not HANDLER.search(html), (source, html)
    for needle in (
        "<script",
        "<iframe",
        "<svg",
        "<style",
        "<form",
        "<object",
        "<embed",
        "<math",
        "<base",
        "<meta",
        "style=",
        "<!--",
        'id="main"',
        "<input",
    ):
        assert needle not in html, (source, html)


def test_links_get_rel_and_allowed_schemes_stay():
    html = render("[a](https://example.com) [b](mailto:a@example.com) [c](/kb/x) [d](#top)").html
    assert html.count('rel="noopener noreferrer"') == 4
    assert 'href="https://example.com"' in html and 'href="mailto:a@example.com"' in html
    assert 'href="/kb/x"' in html and 'href="#top"' in html


def test_headings_get_ids_and_a_table_of_contents():
    rendered = render("# Başlık\n\n## İade koşulları\n\n### Süre\n\n## İade koşulları\n\n#### Not")
    assert '<h2 id="kb-baslik">' in rendered.html  # the page has the h1
    assert 'id="kb-iade-kosullari-2"' in rendered.html and 'id="kb-not"' in rendered.html
    assert rendered.toc == [
        [2, "kb-baslik", "Başlık"],
        [2, "kb-iade-kosullari", "İade koşulları"],
        [3, "kb-sure", "Süre"],
        [2, "kb-iade-kosullari-2", "İade koşulları"],
    ]


def test_tables_and_plain_text():
    rendered = render("Önce **kalın** &amp; <b>b</b>\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n```\nkod <x>\n```")
    assert "<table>" in rendered.html and "style=" not in rendered.html
    assert rendered.text.splitlines()[0] == "Önce kalın & b"
    assert "kod <x>" in rendered.text


def test_slugify_is_turkish_aware():
    assert slugify("İADE Koşulları — IŞIK") == "iade-kosullari-isik"
    assert slugify("???", fallback="x") == "x"
