"""Orders in a real browser: a guest tracks an order (htmx swap in place), then the customer
logs in, finds the order in "My orders" and opens it.

The orders come from `portal demo`, run against the served database. ("Get help with this
order" arrives with tickets.)
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from portal.settings import ROOT
from tests.e2e.support import assert_accessible, screenshot_dir

pytestmark = pytest.mark.e2e

NUMBER = "SP-10002"  # Ayşe's order on its way with Aras Kargo (portal/orders/demo.py)


@pytest.fixture(scope="module")
def demo_loaded(served):
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": served.database_url,
        "PORTAL_VAR_DIR": str(served.var_dir),
        "PORTAL_ENV_FILE": str(served.var_dir / "none.env"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "portal", "demo"],
        env=env,
        cwd=ROOT,
        timeout=180,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return served


def test_guest_tracks_then_customer_opens_the_order(demo_loaded, page, browser_log, tmp_path):
    served = demo_loaded
    page.goto("/track")
    # A wrong e-mail reads "not found", swapped in place.
    page.fill("#f-number", NUMBER)
    page.fill("#f-email", "someone@example.com")
    page.locator("#tracker button[type='submit']").click()
    expect(page.locator("#tracker [data-track='not-found']")).to_be_visible()

    # The right one, typed carelessly, shows the order but not where it goes.
    page.fill("#f-number", NUMBER.lower())
    page.fill("#f-email", "AYSE@example.com")
    with page.expect_response(lambda r: r.url.endswith("/track") and r.request.method == "POST") as info:
        page.locator("#tracker button[type='submit']").click()
    assert info.value.status == 200
    result = page.locator("#track-result")
    expect(result).to_be_visible()
    expect(result.locator("[aria-current='step']")).to_have_count(1)
    expect(result.locator("a[data-tracking-link]")).to_have_attribute("rel", "noopener noreferrer")
    assert "Kadıköy" not in result.inner_text() and "Çankaya" not in result.inner_text()
    expect(page).to_have_url(f"{served.base_url}/track")  # no order number in the address bar
    page.screenshot(path=str(screenshot_dir(tmp_path) / "track.png"))
    # (axe marks up the DOM it checks, and htmx settles attributes onto swapped elements: an
    # htmx swap after an axe run would trip the CSP on axe's inline styles, so axe runs last.)
    assert_accessible(page, "/track (result)")

    # The customer logs in and opens the order from "My orders".
    page.goto("/login")
    page.fill("#f-email", "ayse@example.com")
    page.fill("#f-password", "demo-parola-2026")
    page.locator("#login-form button[type='submit']").click()
    expect(page).to_have_url(f"{served.base_url}/")
    page.locator("header.site-header a[href='/orders']").click()
    expect(page).to_have_url(f"{served.base_url}/orders")
    assert_accessible(page, "/orders")
    page.locator(f"a[href='/orders/{NUMBER}']").click()
    expect(page).to_have_url(f"{served.base_url}/orders/{NUMBER}")
    expect(page.locator("#order-status ol.timeline li")).not_to_have_count(0)
    expect(page.locator("#order-status a[data-tracking-link]")).to_have_attribute("target", "_blank")
    expect(page.locator("address.address")).to_be_visible()

    # The htmx refresh swaps the status block in place.
    page.locator("#order-status a[hx-get]").click()
    expect(page.locator("#order-status")).to_have_count(1)
    expect(page.locator("main h1")).to_have_count(1)
    page.screenshot(path=str(screenshot_dir(tmp_path) / "order.png"))
    assert_accessible(page, f"/orders/{NUMBER}")

    assert browser_log.page_errors == []
    assert browser_log.csp_messages(page) == []
