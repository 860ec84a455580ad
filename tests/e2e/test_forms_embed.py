"""Embedded request forms in a real browser: a shop page on another origin
(``http://localhost:PORT`` while the portal is on ``127.0.0.1``) pastes the snippet; the form
appears in an iframe that fits its content, the visitor sends it and sees the reference. A site
the form does not allow cannot show it; an archived form leaves a console message and nothing
else. Plus axe on the embedded form and a keyboard-only visit.

The demo forms come from `portal demo`. Assertions avoid translated wording where they can.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from portal.settings import ROOT
from tests.e2e.support import assert_accessible, free_port, screenshot_dir

pytestmark = pytest.mark.e2e
REF = re.compile(r"T-\d+")


@pytest.fixture(scope="module")
def demo(served):
    env = {**os.environ, "PORTAL_DATABASE_URL": served.database_url, "PORTAL_VAR_DIR": str(served.var_dir),
           "PORTAL_ENV_FILE": str(served.var_dir / "none.env")}
    done = subprocess.run([sys.executable, "-m", "portal", "demo"], env=env, cwd=ROOT, timeout=180,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return served


def _snippet(base: str, slug: str, extra: str = "") -> str:
    return f'<script src="{base}/embed.js" data-portal-form="{slug}"{extra} async></script>'


class Shop:
    """A plain website on its own origin, serving pages we write per test."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.port = free_port()
        self.origin = f"http://localhost:{self.port}"
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = shop.pages.get(self.path.split("?")[0])
                data = (body or "not found").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def page(self, path: str, title: str, body: str, lang: str = "tr") -> str:
        self.pages[path] = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
                            f'</head><body><h1>{title}</h1><p>Mağazamızla ilgili sorularınız için:</p>{body}'
                            '<footer>Örnek Mağaza</footer></body></html>')
        return self.origin + path


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    s = Shop()
    s.thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()
    s.thread.join(timeout=10)


def _frame_height(page) -> int:
    return int(page.evaluate("() => document.querySelector('iframe.portal-form-frame').getBoundingClientRect().height"))


def test_the_snippet_embeds_resizes_and_sends(demo, shop, page, browser_log, tmp_path):
    served = demo
    extra = ' data-email="ayse.e2e@example.com" data-theme-color="#8a2be2"'
    url = shop.page("/iletisim.html", "İletişim", _snippet(served.base_url, "contact", extra))
    page.goto(url)
    frame = page.frame_locator("iframe.portal-form-frame")
    expect(frame.locator("#ff-name")).to_be_visible()
    expect(frame.locator("#ff-email")).to_have_value("ayse.e2e@example.com")  # data-* prefill
    expect(frame.locator("button[type=submit]")).to_have_css("background-color", "rgb(138, 43, 226)")  # theme
    # Resized to its content by postMessage (the initial height is 600px).
    page.wait_for_function("() => document.querySelector('iframe.portal-form-frame').style.height !== '600px'")
    content = frame.locator("html").evaluate("e => Math.ceil(e.getBoundingClientRect().height)")
    page.wait_for_function("h => Math.abs(document.querySelector('iframe.portal-form-frame')"
                           ".getBoundingClientRect().height - h) <= 2", arg=content)
    before = _frame_height(page)

    frame.locator("#ff-name").fill("Ayşe Yılmaz")
    frame.locator("#ff-subject").fill("Ka")  # too short on purpose: an inline error, the frame grows
    frame.locator("#ff-message").fill("Siparişim ne zaman gelir? Takip numarası çalışmıyor.")
    frame.locator("#ff-consent").check()
    frame.locator("button[type=submit]").click()
    expect(frame.locator("#ff-subject")).to_have_attribute("aria-invalid", "true", timeout=15000)
    page.wait_for_function("h => document.querySelector('iframe.portal-form-frame').getBoundingClientRect().height > h",
                           arg=before)

    frame.locator("#ff-subject").fill("Kargom nerede?")
    frame.locator("button[type=submit]").click()
    reference = frame.locator(".request-ref")
    expect(reference).to_have_text(REF, timeout=15000)
    ref = reference.inner_text()
    number = int(ref[2:])
    rows = served.query("SELECT channel, form_slug FROM ticket WHERE number = ?", number)
    assert rows == [("form", "contact")]
    sub = served.query("SELECT page_url, consent_version FROM form_submission s JOIN ticket t ON t.id = s.ticket "
                       "WHERE t.number = ?", number)
    assert sub == [(url, 1)]
    mails = served.mail_to("ayse.e2e@example.com")
    assert mails and ref in mails[-1] and served.base_url + "/t/" in mails[-1]
    if os.environ.get("PORTAL_SCREENSHOT_DIR"):
        page.goto(url)
        expect(page.frame_locator("iframe.portal-form-frame").locator("button[type=submit]")).to_have_css(
            "background-color", "rgb(138, 43, 226)")
        page.wait_for_function("() => document.querySelector('iframe.portal-form-frame').style.height !== '600px'")
        page.screenshot(path=str(screenshot_dir(tmp_path) / "embedded-form.png"), full_page=True)
    assert not browser_log.page_errors, browser_log.page_errors
    assert not browser_log.csp_messages(page)


def test_several_forms_on_one_page_each_fit(demo, shop, page):
    url = shop.page("/iki.html", "İki form", _snippet(demo.base_url, "contact") + "<hr>"
                    + _snippet(demo.base_url, "return-request"), lang="en")
    page.goto(url)
    frames = page.locator("iframe.portal-form-frame")
    expect(frames).to_have_count(2)
    expect(page.frame_locator("iframe.portal-form-frame >> nth=1").locator("#ff-order_number")).to_be_visible()
    expect(page.frame_locator("iframe.portal-form-frame >> nth=0").locator("html")).to_have_attribute("lang", "en")
    page.wait_for_function("() => [...document.querySelectorAll('iframe.portal-form-frame')]"
                           ".every(f => f.style.height && f.style.height !== '600px')")
    heights = page.evaluate("() => [...document.querySelectorAll('iframe.portal-form-frame')].map(f => f.style.height)")
    assert heights[0] != heights[1]  # each frame got its own height, not the other's


def test_a_site_the_form_does_not_allow_cannot_show_it(demo, extra_forms, shop, page):
    # The demo forms allow http://localhost:*; this form allows only https://shop.example.com.
    url = shop.page("/baska.html", "Başka site", _snippet(demo.base_url, "e2e-shop-only"))
    with page.expect_console_message(lambda m: m.type == "error" and "e2e-shop-only" in m.text):
        page.goto(url)
    expect(page.locator("iframe")).to_have_count(0)
    # A hand-written iframe is refused by the browser itself (frame-ancestors).
    framed = shop.page("/elle.html", "Elle", f'<iframe id="x" src="{demo.base_url}/f/e2e-shop-only/embed"></iframe>')
    with page.expect_console_message(lambda m: "frame-ancestors" in m.text):
        page.goto(framed)
    frame = page.frame_locator("#x")
    expect(frame.locator("form")).to_have_count(0)


_EXTRA_FORMS = """
import asyncio
from portal import db
from portal.clock import now
from portal.forms import service
from portal.forms.demo import CONTACT
from portal.forms.fields import parse_definition
from portal.forms.tables import Form
from portal.settings import Settings

async def main():
    engine = db.make_engine(Settings.from_env())
    db.bind(engine)
    await db.start(engine)
    try:
        if not await Form.exists().where(Form.slug == "e2e-shop-only"):
            await service.create_form(service.FormInput(
                slug="e2e-shop-only", name_tr="Yalnız mağaza", name_en="Shop only",
                fields=parse_definition({"fields": CONTACT}), origins=["https://shop.example.com"]), now=now())
            await service.create_form(service.FormInput(
                slug="e2e-archived", name_tr="Eski", name_en="Old",
                fields=parse_definition({"fields": CONTACT}), origins=["http://localhost:*"]), now=now())
            await service.create_form(service.FormInput(
                slug="e2e-pow", name_tr="İş kanıtı", name_en="Proof of work", altcha=True,
                fields=parse_definition({"fields": CONTACT}), origins=["http://localhost:*"]), now=now())
            old = await Form.select(Form.id).where(Form.slug == "e2e-archived").first()
            await service.set_archived(old["id"], True, now=now())
    finally:
        await db.stop(engine)

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def extra_forms(demo):
    """Forms beyond the demo's: one for another shop only, one archived, one with proof of work."""
    env = {**os.environ, "PORTAL_DATABASE_URL": demo.database_url, "PORTAL_VAR_DIR": str(demo.var_dir),
           "PORTAL_ENV_FILE": str(demo.var_dir / "none.env")}
    done = subprocess.run([sys.executable, "-c", _EXTRA_FORMS], env=env, cwd=ROOT, timeout=60, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_archived_form_says_so_in_the_console_and_shows_nothing(demo, extra_forms, shop, page):
    url = shop.page("/eski.html", "Eski", _snippet(demo.base_url, "e2e-archived"))
    with page.expect_console_message(lambda m: m.type == "error" and "archived" in m.text) as message:
        page.goto(url)
    assert "e2e-archived" in message.value.text
    expect(page.locator("iframe")).to_have_count(0)


def test_the_embedded_form_is_accessible_with_errors_too(demo, page):
    page.goto("/f/contact/embed?lang=tr")
    expect(page.locator("#ff-name")).to_be_visible()
    assert_accessible(page, "/f/contact/embed")
    page.locator("button[type=submit]").click()
    expect(page.locator("#ff-name")).to_have_attribute("aria-invalid", "true", timeout=10000)
    assert_accessible(page, "/f/contact/embed with errors")


def test_the_form_can_be_filled_with_the_keyboard_alone(demo, shop, page):
    url = shop.page("/klavye.html", "Klavye", _snippet(demo.base_url, "contact"))
    page.goto(url)
    frame = page.frame_locator("iframe.portal-form-frame")
    expect(frame.locator("#ff-name")).to_be_visible()
    page.keyboard.press("Tab")  # into the iframe: its first field
    expect(frame.locator("#ff-name")).to_be_focused()
    page.keyboard.type("Mehmet Kaya")
    page.keyboard.press("Tab")
    expect(frame.locator("#ff-email")).to_be_focused()
    page.keyboard.type("mehmet.e2e@example.com")
    page.keyboard.press("Tab")
    expect(frame.locator("#ff-subject")).to_be_focused()
    page.keyboard.type("Fatura adresi değişikliği")
    page.keyboard.press("Tab")
    expect(frame.locator("#ff-message")).to_be_focused()
    page.keyboard.type("Faturamdaki adresi güncellemek istiyorum, yardımcı olur musunuz?")
    page.keyboard.press("Tab")
    expect(frame.locator("#ff-consent")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(frame.locator("button[type=submit]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(frame.locator(".request-ref")).to_have_text(REF, timeout=15000)
    expect(frame.locator("#form-done")).to_be_focused()


def test_a_form_with_proof_of_work_is_solved_by_the_browser(demo, extra_forms, shop, page):
    url = shop.page("/pow.html", "İş kanıtı", _snippet(demo.base_url, "e2e-pow"))
    page.goto(url)
    frame = page.frame_locator("iframe.portal-form-frame")
    frame.locator("#ff-name").fill("Zeynep Arslan")
    frame.locator("#ff-email").fill("zeynep.e2e@example.com")
    frame.locator("#ff-subject").fill("Kapıda ödeme")
    frame.locator("#ff-message").fill("Kapıda ödeme seçeneğiniz var mı?")
    frame.locator("button[type=submit]").click()
    expect(frame.locator(".request-ref")).to_have_text(REF, timeout=30000)
    assert demo.mail_to("zeynep.e2e@example.com")
