"""CSAT in a real browser: a lead solves a request, the customer opens the solved mail's
"4" link (nothing is stored by opening it), sends the score with the page's button, then adds
a comment; the lead sees the results page with its charts.

Staff and customers come from `portal demo`. Assertions avoid translated wording.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from portal.settings import ROOT
from tests.e2e.support import assert_accessible, new_context

pytestmark = pytest.mark.e2e

PASSWORD = "demo-parola-2026"
SUBJECT = "Fatura bilgilerimi değiştirmek istiyorum"


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


def _csat(served, number: int) -> tuple:
    rows = served.query("SELECT r.score, r.comment, r.answered_at FROM survey_request r "
                        "JOIN ticket t ON t.id = r.ticket WHERE t.number = ?", number)
    return rows[0] if rows else (None, None, None)


def test_solved_mail_score_link_stores_the_score_and_a_comment(demo, browser, browser_log):
    served = demo
    [(number, requester)] = served.query(
        "SELECT t.number, c.email FROM ticket t JOIN customer c ON c.id = t.requester WHERE t.subject = ?", SUBJECT)
    lead_ctx, customer_ctx = new_context(browser, served), new_context(browser, served)
    try:
        lead = lead_ctx.new_page()
        _log_in(lead, "/staff/login", "lead@example.com")
        # Demo customers were surveyed recently: no fatigue interval for this journey.
        lead.goto("/staff/surveys")
        lead.fill("#f-fatigue_days", "0")
        lead.locator("form[action='/staff/surveys/settings'] button[type='submit']").click()
        expect(lead).to_have_url(f"{served.base_url}/staff/surveys")
        expect(lead.locator("#f-fatigue_days")).to_have_value("0")

        lead.goto(f"/staff/tickets/T-{number}")
        lead.fill("#f-body", "Fatura bilgileriniz güncellendi.")
        lead.select_option("#f-reply-status", "solved")
        lead.locator("#reply form[method='post'] button[type='submit']").click()
        expect(lead.locator("#ticket .thread")).to_contain_text("güncellendi")

        mails = [m for m in served.mail_to(requester) if "/s/" in m]
        assert mails, "the solved mail has no survey links"
        link = served.link_in(mails[-1], "/s/").split("?")[0] + "?score=4"
        assert link in mails[-1]

        customer = customer_ctx.new_page()
        customer.goto(link)
        expect(customer.locator("input[name='score'][value='4']")).to_be_checked()
        assert _csat(served, number)[2] is None  # opening the link stored nothing
        assert_accessible(customer, "/s/{token}")
        customer.locator("form.survey-form button[type='submit']").click()
        expect(customer.locator("#survey-answered")).to_be_visible()
        score, comment, answered = _csat(served, number)
        assert score == 4 and answered is not None and not comment

        customer.fill("#f-comment", "Hızlı ve net bir cevap, teşekkürler.")
        customer.locator("form.survey-form button[type='submit']").click()
        expect(customer.locator("#f-comment")).to_have_value("Hızlı ve net bir cevap, teşekkürler.")
        assert _csat(served, number)[:2] == (4, "Hızlı ve net bir cevap, teşekkürler.")

        lead.goto("/staff/reports/satisfaction")
        expect(lead.locator("svg.chart")).to_have_count(3)
        expect(lead.locator(f"a[href='/staff/tickets/T-{number}']").first).to_be_visible()
        assert_accessible(lead, "/staff/reports/satisfaction")
        assert browser_log.page_errors == []
    finally:
        lead_ctx.close()
        customer_ctx.close()
