"""Routing in a real browser: an admin writes a rule on the settings page (without JavaScript
needed), asks the tester which rule a sample would match, and a customer's request that
matches lands in the rule's team and with one of its available agents. The pages pass axe.

Staff and customers come from `portal demo`. Assertions avoid translated wording.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from portal.settings import ROOT
from tests.e2e.support import assert_accessible, new_context, screenshot_dir

pytestmark = pytest.mark.e2e

PASSWORD = "demo-parola-2026"


@pytest.fixture(scope="module")
def demo(served):
    env = {**os.environ, "PORTAL_DATABASE_URL": served.database_url, "PORTAL_VAR_DIR": str(served.var_dir),
           "PORTAL_ENV_FILE": str(served.var_dir / "none.env")}
    done = subprocess.run([sys.executable, "-m", "portal", "demo"], env=env, cwd=ROOT, timeout=180,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return served


def _log_in(page, path: str, email: str) -> None:
    page.goto(path)
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type='submit']").click()


def test_admin_writes_a_rule_tests_it_and_a_request_follows_it(demo, browser, tmp_path):
    served = demo
    shots = screenshot_dir(tmp_path)
    admin_ctx, customer_ctx = new_context(browser, served), new_context(browser, served)
    try:
        admin = admin_ctx.new_page()
        _log_in(admin, "/staff/login", "admin@example.com")
        admin.goto("/staff/settings/routing")
        expect(admin.locator("#routing-section tbody tr")).to_have_count(6)  # the demo rules
        assert_accessible(admin, "routing rules")

        admin.goto("/staff/settings/routing/new")
        admin.fill("#f-name", "Garanti")
        admin.fill("#f-words", "garanti, warranty")
        admin.check("#f-channels-portal")
        satis = served.query("SELECT id FROM team WHERE slug = 'satis'")[0][0]
        admin.select_option("#f-set_team", str(satis))
        admin.select_option("#f-set_priority", "high")
        assert_accessible(admin, "routing rule form")
        admin.screenshot(path=str(shots / "staff-routing-rule.png"), full_page=True)
        with admin.expect_navigation():
            admin.locator("#rule-form button[type='submit']").click()
        row = admin.locator("#routing-section tbody tr", has_text="Garanti")
        expect(row).to_have_count(1)
        # Move it to the top, above the demo rules.
        for _ in range(6):
            if admin.locator("#routing-section tbody tr").first.text_content().find("Garanti") >= 0:
                break
            with admin.expect_navigation():
                row.locator("form").first.locator("button").click()
            row = admin.locator("#routing-section tbody tr", has_text="Garanti")
        expect(admin.locator("#routing-section tbody tr").first).to_contain_text("Garanti")
        admin.screenshot(path=str(shots / "staff-routing.png"), full_page=True)

        admin.goto("/staff/settings/routing/test")
        admin.fill("#f-subject", "GARANTİ süresi")
        admin.select_option("#f-channel", "portal")
        with admin.expect_navigation():
            admin.locator("#routing-test-form button[type='submit']").click()
        expect(admin.locator("#routing-test-result")).to_contain_text("Garanti")
        assert_accessible(admin, "routing tester")
        admin.screenshot(path=str(shots / "staff-routing-test.png"), full_page=True)

        customer = customer_ctx.new_page()
        _log_in(customer, "/login", "oguz@example.com")
        customer.goto("/tickets/new")
        subject = f"Garantİ {served.engine}: termos"
        customer.fill("#f-subject", subject)
        customer.fill("#f-body", "Termosun garantisi ne kadar?")
        with customer.expect_navigation():
            customer.locator("main form button[type='submit']").click()
        team, priority, assignee = served.query(
            "SELECT team, priority, assignee FROM ticket WHERE subject = ?", subject)[0]
        agents = {r[0] for r in served.query(
            "SELECT s.id FROM staff_user s JOIN team_member m ON m.staff = s.id WHERE m.team = ? AND s.available",
            satis)}
        assert (team, priority) == (satis, "high") and assignee in agents
    finally:
        admin_ctx.close()
        customer_ctx.close()
