"""A request from start to end in real browsers: a customer opens it, an agent sees it appear
in the queue without reloading (server-sent events), replies, the customer sees the reply and
answers again from the link in the mail, without logging in.

Staff and customers come from `portal demo`. Assertions avoid translated wording.
"""

from __future__ import annotations

import os
import re
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


def test_request_reply_and_answer_from_the_mail(demo, browser, browser_log, tmp_path):
    served = demo
    subject = f"Yolculuk {served.engine}: kapıda ödeme"
    agent_ctx, customer_ctx, guest_ctx = (new_context(browser, served) for _ in range(3))
    try:
        agent = agent_ctx.new_page()
        _log_in(agent, "/staff/login", "agent@example.com")
        with agent.expect_response(lambda r: "/staff/live/queue" in r.url):
            agent.goto("/staff/queue")
        expect(agent.locator("#queue")).not_to_contain_text(subject)

        customer = customer_ctx.new_page()
        _log_in(customer, "/login", "irem@example.com")
        customer.goto("/orders/SP-10008")
        customer.locator("a[data-help-link]").click()
        expect(customer.locator("#f-order")).to_have_value("SP-10008")
        customer.fill("#f-subject", subject)
        customer.fill("#f-body", "Merhaba, kapıda ödeme yapabilir miyim?")
        customer.locator("#new-ticket button[type='submit']").click()
        expect(customer).to_have_url(re.compile(r"/tickets/T-\d+$"))
        ref = customer.url.rsplit("/", 1)[1]  # other demo steps decide how many tickets exist

        # The agent's queue shows it without a reload.
        row = agent.locator("#queue tr", has_text=subject)
        expect(row).to_have_count(1, timeout=15000)
        assert agent.url.endswith("/staff/queue")
        agent.screenshot(path=str(screenshot_dir(tmp_path) / "queue-live.png"))
        row.locator(f"a[href='/staff/tickets/{ref}']").click()
        expect(agent).to_have_url(f"{served.base_url}/staff/tickets/{ref}")
        agent.fill("#f-body", "Evet, kapıda kartla ödeyebilirsiniz.")
        agent.locator("#reply form[method='post'] button[type='submit']").click()
        expect(agent.locator("#ticket .thread")).to_contain_text("kapıda kartla")
        assert_accessible(agent, f"/staff/tickets/{ref}")

        # The customer sees the answer on the ticket page.
        customer.reload()
        expect(customer.locator("#conversation .thread")).to_contain_text("kapıda kartla")

        # ...and answers from the mail's link in a browser that is not logged in.
        mails = served.mail_to("irem@example.com")
        link = served.link_in(mails[-1], "/t/")
        guest = guest_ctx.new_page()
        guest.goto(link)
        guest.fill("#f-body", "Teşekkürler, öyle yapacağım.")
        guest.locator("#reply-form button[type='submit']").click()
        expect(guest.locator("#conversation .thread li")).to_have_count(3)
        assert_accessible(guest, "/t/{token}")
        rows = served.query("SELECT author_kind, public FROM ticket_message m "
                            "JOIN ticket t ON t.id = m.ticket WHERE t.number = ? ORDER BY m.id", int(ref[2:]))
        assert [r[0] for r in rows] == ["customer", "staff", "customer"]
        agent.goto("/staff/queue")
        assert_accessible(agent, "/staff/queue")
        assert browser_log.page_errors == []
    finally:
        for ctx in (agent_ctx, customer_ctx, guest_ctx):
            ctx.close()


def test_agents_see_each_other_on_a_ticket(demo, browser, browser_log):
    served = demo
    first_ctx, second_ctx = new_context(browser, served), new_context(browser, served)
    try:
        first, second = first_ctx.new_page(), second_ctx.new_page()
        _log_in(first, "/staff/login", "agent@example.com")
        _log_in(second, "/staff/login", "lead@example.com")
        with first.expect_response(lambda r: "/staff/live/tickets/T-1003" in r.url):
            first.goto("/staff/tickets/T-1003")
        with second.expect_response(lambda r: "/staff/live/tickets/T-1003" in r.url):
            second.goto("/staff/tickets/T-1003")
        expect(first.locator("#live-viewers")).to_contain_text("Elif Kaya", timeout=15000)
        expect(second.locator("#live-viewers")).to_contain_text("Mert Çelik", timeout=15000)

        # The lead starts writing: the agent sees it.
        second.locator("#f-body").type("Depoya soruyorum")
        expect(first.locator("#live-viewers")).to_contain_text("(", timeout=15000)

        # The lead changes the priority: the agent is told the ticket changed, the lead is not.
        second.select_option("#f-priority", "urgent")
        second.locator("aside form[action$='/fields'] button[type='submit']").click()
        expect(first.locator("#live-changed a[href='/staff/tickets/T-1003']")).to_have_count(1, timeout=15000)
        expect(second.locator("#ticket .priority-urgent")).to_have_count(1)
        expect(second.locator("#live-changed a")).to_have_count(0)

        # The lead leaves: the agent no longer sees them.
        second.close()
        expect(first.locator("#live-viewers")).not_to_contain_text("Elif Kaya", timeout=15000)
        assert browser_log.page_errors == []
    finally:
        first_ctx.close()
        second_ctx.close()
