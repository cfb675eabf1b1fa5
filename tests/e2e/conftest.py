"""Browser fixtures: ``live_server``, ``browser``, ``page_factory`` (JavaScript on or off), ``with_app``.

The portal runs in a background thread (werkzeug, threaded) on 127.0.0.1 and a
free port, on the session's test database; Debian's Chromium drives it through
Playwright.  Every test in this folder is marked ``e2e``.  Without Chromium the
tests skip on a laptop and fail in CI (tests.services).
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db, limiter
from tests import services
from tests.conftest import base_config, empty_tables

HERE = Path(__file__).parent

# The captcha answer the browser types; honoured only under TESTING (base_config sets it).
CAPTCHA_ANSWER = "E2E42"

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Generous for a loaded CI runner; nothing in a passing run waits this long.
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


# ---- the portal -----------------------------------------------------------------

@dataclass
class LiveServer:
    app: object
    url: str

    @contextmanager
    def app_context(self):
        """Read or write the database from the test: commit what the browser must see."""
        with self.app.app_context():
            yield db.session


@pytest.fixture
def live_server(database_url, config_overrides):
    app = create_app({**base_config(database_url), "CAPTCHA_TEST_ANSWER": CAPTCHA_ANSWER, **config_overrides})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-portal", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            empty_tables()
            if app.config["REDIS_URL"]:
                limiter.reset()
            db.engine.dispose()


# ---- the browser ------------------------------------------------------------------

@pytest.fixture(scope="session")
def playwright_driver():
    services.require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements-test.txt installs it
        services.require("the playwright Python package", False)
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=services.CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


# Older Chromium: "Refused to apply inline style because it violates the following Content Security
# Policy directive ..."; Chromium 156: "Applying inline style violates the following Content Security
# Policy directive ...".  test_the_console_watch_sees_csp_violations keeps this list honest.
CSP_MARKERS = ("content security policy", "refused to")


@dataclass
class ConsoleWatch:
    """What a page said on its console; CSP violations (and uncaught errors) fail the test."""

    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_console(self, message) -> None:
        self.messages.append(f"{message.type}: {message.text}")

    def on_page_error(self, error) -> None:
        self.errors.append(str(error))

    @staticmethod
    def is_csp_violation(text: str) -> bool:
        return any(marker in text.lower() for marker in CSP_MARKERS)

    @property
    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if self.is_csp_violation(m)]

    def assert_clean(self) -> None:
        assert not self.csp_violations, "Content-Security-Policy violations:\n" + "\n".join(self.csp_violations)
        assert not self.errors, "uncaught errors in the page:\n" + "\n".join(self.errors)


HTMX_READY = "() => window.htmx !== undefined || !document.querySelector('script[data-htmx]')"


def wait_for_htmx(page) -> None:
    """portal.js asks for htmx after the load event (docs/architecture.md §6): a test that needs a swap
    after a whole-page load waits for it, as a person's first tap may come before it and load a page."""
    page.wait_for_function(HTMX_READY)


def enhance_after_goto(page) -> None:
    """``page.goto`` returns once htmx is there too, so a journey's first click is an htmx one."""
    goto = page.goto

    def goto_and_wait(url, **kwargs):
        response = goto(url, **kwargs)
        if response is not None and "text/html" in response.headers.get("content-type", ""):
            wait_for_htmx(page)
        return response

    page.goto = goto_and_wait


@pytest.fixture
def page_factory(browser, live_server, request):
    """``page_factory(js=True)``: a page in a fresh context (own cookies) with JavaScript on or off.

    ``page.console_watch`` is its ConsoleWatch; it is checked again when the test ends.
    """
    contexts = []
    watches = []

    def make(js: bool = True):
        context = browser.new_context(base_url=live_server.url, java_script_enabled=js)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        if js:
            enhance_after_goto(page)
        watch = ConsoleWatch()
        page.on("console", watch.on_console)
        page.on("pageerror", watch.on_page_error)
        page.console_watch = watch
        watches.append(watch)
        return page

    yield make
    for context in contexts:
        context.close()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed:
        for watch in watches:
            watch.assert_clean()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


# ---- the demo family ----------------------------------------------------------------

@pytest.fixture
def demo_family(live_server):
    """The demo data, with the family head's login managing the child's line and the home contract.

    Returns the account ids: ``head``, ``child``, ``home``. The head signs in with factories.PASSWORD.
    """
    from sqlalchemy import select

    from portal.domain.demo import seed_demo
    from portal.domain.passwords import hash_secret
    from portal.models import Account, HomeContract, Line, Login, LoginAccount
    from tests import factories

    with live_server.app_context() as session:
        seed_demo(session)
        head = session.scalar(select(Account).join(Line).where(Line.msisdn == "+79161234567"))
        child = session.scalar(select(Account).join(Line).where(Line.msisdn == "+79161234568"))
        home = session.scalar(select(Account).join(HomeContract).where(HomeContract.contract_no == "HC-100200"))
        # The demo gives the head a login without a password (for the saved card): sign-in needs one.
        login = session.scalar(select(Login).where(Login.primary_account_id == head.id))
        if login is None:
            login = factories.make_login(session, head)
        login.password_hash = hash_secret(factories.PASSWORD)
        session.add_all([LoginAccount(login_id=login.id, account_id=child.id),
                         LoginAccount(login_id=login.id, account_id=home.id)])
        session.commit()
        return {"head": head.id, "child": child.id, "home": home.id}
