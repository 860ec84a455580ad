"""What only a browser shows: accessibility (axe), the Content-Security-Policy as enforced, and
htmx actually loaded and configured from the page's ``<meta name="htmx-config">``."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import ENGINES
from tests.e2e.support import assert_accessible, axe_violations, serve

pytestmark = pytest.mark.e2e

PUBLIC_PAGES = ["/", "/login", "/signup", "/staff/login"]


@pytest.fixture(scope="module", params=["sqlite"] if "sqlite" in ENGINES else ENGINES[:1])
def served(request, tmp_path_factory):
    """Markup, CSP and htmx do not depend on the database: one engine is enough here (the
    journeys run on every engine)."""
    with serve(request.param, tmp_path_factory.mktemp(f"e2e-{request.param}")) as app:
        yield app


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_has_no_serious_accessibility_violation(served, page, path):
    response = page.goto(path)
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == "tr"
    assert_accessible(page, path)


def test_the_checker_runs_under_our_csp(served, page):
    """Guard against a checker that silently checks nothing: an image without alt text added to a
    served page (same CSP) must be reported."""
    page.goto("/login")
    page.evaluate("""() => { const img = document.createElement("img"); img.src = "data:,";
                             document.querySelector("main").appendChild(img); }""")
    ids = {v["id"] for v in axe_violations(page)}
    assert "image-alt" in ids


def test_pages_are_accessible_in_english_too(served, browser, page):
    page.goto("/login?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page, "/login?lang=en")


def test_form_errors_are_accessible(served, page):
    """A form re-rendered with errors (by htmx) still passes axe: labels, aria-invalid, described-by."""
    page.goto("/signup")
    page.locator("#signup-form button[type='submit']").click()
    expect(page.locator("#f-email")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "/signup with errors")


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_no_content_security_policy_violation(served, page, browser_log, path):
    page.goto(path)
    # htmx ran: it read its configuration from the meta tag, so it needed no inline script.
    page.wait_for_function("() => window.htmx !== undefined")
    config = page.evaluate(
        "() => ({self: htmx.config.selfRequestsOnly,"
        " styles: htmx.config.includeIndicatorStyles,"
        " evalAllowed: htmx.config.allowEval})"
    )
    assert config == {"self": True, "styles": False, "evalAllowed": False}
    assert browser_log.csp_messages(page) == []
    assert browser_log.page_errors == []


def test_htmx_swap_under_the_csp(served, page, browser_log):
    """An htmx request and swap (the invalid log-in form comes back with 422) break no CSP rule."""
    page.goto("/login")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.locator("#login-form button[type='submit']").click()
    assert info.value.status == 422
    assert info.value.request.headers.get("hx-request") == "true"
    expect(page.locator("#f-email")).to_have_attribute("aria-invalid", "true")
    assert browser_log.csp_messages(page) == []
    assert browser_log.page_errors == []


def test_skip_link_is_the_first_stop_and_reaches_main(served, page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{served.base_url}/#main")
