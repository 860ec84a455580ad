"""Browser journeys: the real app served by uvicorn in a subprocess, driven by Debian's chromium
through Playwright (the sync API: the tests are plain functions, outside pytest's event loops).

The server fixture is module-scoped and parametrised on the suite's database engines
(``PORTAL_TEST_DBS``), so every journey runs on SQLite and on PostgreSQL. There is no SMTP
relay: a mail "arrives" when its row is in the ``outbox`` table of the served database
(``served.mail_to(address)``).

Screenshots for the README are written only when ``PORTAL_SCREENSHOT_DIR`` is set:
``PORTAL_SCREENSHOT_DIR=docs/screenshots PORTAL_TEST_DBS=sqlite pytest tests/e2e/test_journey.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ENGINES
from tests.e2e.support import (
    CHROMIUM_ARGS,
    CSP_LISTENER,
    BrowserLog,
    ServedApp,
    chromium_path,
    new_context,
    serve,
)


@pytest.fixture(scope="module", params=ENGINES)
def served(request, tmp_path_factory) -> Iterator[ServedApp]:
    with serve(request.param, tmp_path_factory.mktemp(f"e2e-{request.param}")) as app:
        yield app


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        message = "Debian chromium is not installed (make chromium, or apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser, served) -> Iterator[Any]:
    ctx = new_context(browser, served)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context) -> Any:
    return context.new_page()


@pytest.fixture
def browser_log(page) -> BrowserLog:
    """What the page logged on the console, threw, and which of its requests got 4xx/5xx.
    CSP violations are also recorded in the page as ``securitypolicyviolation`` events."""
    log = BrowserLog()
    page.add_init_script(CSP_LISTENER)
    page.on("console", lambda m: log.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on("response", lambda r: log.failed_responses.append((r.status, r.url)) if r.status >= 400 else None)
    return log
