"""A new customer's first visit, in a real browser: sign up, confirm the address from the mail,
log in, and switch the site to English, which is then remembered on the account.

Assertions avoid translated wording (the Turkish catalog comes later): they look at URLs,
``lang`` attributes, form controls and the database.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.support import assert_accessible, new_context, screenshot_dir

pytestmark = pytest.mark.e2e

NAME = "Zeynep Ünal"
PASSWORD = "kırmızı bisiklet 42"


def _html_lang(page) -> str | None:
    return page.locator("html").get_attribute("lang")


def _type_into(page, selector: str, text: str) -> None:
    page.locator(selector).focus()
    page.keyboard.type(text)


def test_signup_verify_login_and_switch_language(served, browser, page, browser_log, tmp_path):
    email = f"zeynep.{served.engine}@example.com"

    # A Turkish browser gets the Turkish site.
    page.goto("/")
    assert _html_lang(page) == "tr"
    page.locator("header.site-header a[href='/signup']").click()
    expect(page).to_have_url(f"{served.base_url}/signup")

    # Sign up with the keyboard only: type, Tab to the next field, Enter to send.
    _type_into(page, "#f-name", NAME)
    page.keyboard.press("Tab")
    expect(page.locator("#f-email")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.locator("#f-password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    # "Check your mail": one page, not a page nested inside the sign-up form.
    expect(page.locator("#signup-form")).to_have_count(0)
    expect(page.locator("main h1")).to_have_count(1)
    expect(page.locator("header.site-header")).to_have_count(1)
    expect(page.locator("main")).to_have_count(1)
    assert email in page.locator("main").inner_text()

    # The mail is in the outbox; its link leads to a confirmation page (a GET changes nothing).
    bodies = served.mail_to(email)
    assert len(bodies) == 1, bodies
    link = served.link_in(bodies[0], "/verify/")
    page.goto(link)
    assert served.query("SELECT email_verified_at FROM customer WHERE email = ?", email) == [(None,)]
    confirm = page.locator("main form[action^='/verify/'] button[type='submit']")
    confirm.focus()
    page.keyboard.press("Enter")

    # Confirmed: on to the log-in page, with a notice.
    expect(page).to_have_url(f"{served.base_url}/login")
    expect(page.locator("main .notice[role='status']")).to_be_visible()
    [(verified_at,)] = served.query("SELECT email_verified_at FROM customer WHERE email = ?", email)
    assert verified_at is not None
    page.screenshot(path=str(screenshot_dir(tmp_path) / "login.png"))

    # Log in (keyboard again); the home page greets the customer and links to the account.
    _type_into(page, "#f-email", email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{served.base_url}/")
    expect(page.locator("header.site-header a[href='/account']")).to_have_text(NAME)
    expect(page.locator("header.site-header")).to_have_count(1)
    expect(page.locator("#login-form")).to_have_count(0)
    assert _html_lang(page) == "tr"
    page.screenshot(path=str(screenshot_dir(tmp_path) / "home.png"))
    assert_accessible(page, "/ (logged in)")

    # The header's language switch is a form button: reach it and press Enter.
    switch = page.locator("header.site-header form.lang-switch button[name='lang'][value='en']")
    switch.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{served.base_url}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header.site-header form.lang-switch button[value='tr']")).to_be_visible()

    # It stays English on the next page, and the account page shows the saved choice.
    page.locator("header.site-header a[href='/account']").click()
    expect(page).to_have_url(f"{served.base_url}/account")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#f-locale")).to_have_value("en")
    assert page.locator("#f-locale option:checked").inner_text() == "English"
    assert served.query("SELECT locale FROM customer WHERE email = ?", email) == [("en",)]
    assert_accessible(page, "/account")

    # Saved on the account, not only in this browser: a fresh Turkish browser that logs in
    # gets English too.
    other = new_context(browser, served, locale="tr-TR")
    try:
        second = other.new_page()
        second.goto("/login")
        assert _html_lang(second) == "tr"
        second.fill("#f-email", email)
        second.fill("#f-password", PASSWORD)
        second.locator("#login-form button[type='submit']").click()
        expect(second).to_have_url(f"{served.base_url}/")
        expect(second.locator("html")).to_have_attribute("lang", "en")
    finally:
        other.close()

    assert browser_log.page_errors == []
    assert browser_log.csp_messages(page) == []


def test_wrong_password_shows_the_error_in_place(served, page):
    """The htmx swap of an invalid log-in: the form comes back marked invalid, focusable, 422."""
    page.goto("/login")
    page.fill("#f-email", "nobody@example.com")
    page.fill("#f-password", "not the password")
    with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as info:
        page.locator("#login-form button[type='submit']").click()
    assert info.value.status == 422
    expect(page.locator("#login-form .notice-error[role='alert']")).to_be_visible()
    expect(page).to_have_url(f"{served.base_url}/login")
    expect(page.locator("#login-form")).to_have_count(1)
    expect(page.locator("header.site-header")).to_have_count(1)


def test_signup_with_a_short_password_marks_the_field(served, page):
    page.goto("/signup")
    page.fill("#f-name", NAME)
    page.fill("#f-email", f"short.{served.engine}@example.com")
    page.fill("#f-password", "short")
    page.locator("#signup-form button[type='submit']").click()
    expect(page.locator("#f-password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-password")).to_have_attribute("aria-describedby", "f-password-error")
    expect(page.locator("#f-password-error")).to_be_visible()
    # What was typed is kept, except the password.
    expect(page.locator("#f-name")).to_have_value(NAME)
    expect(page.locator("#f-password")).to_have_value("")
    assert served.mail_to(f"short.{served.engine}@example.com") == []
