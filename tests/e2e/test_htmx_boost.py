"""What hx-boost keeps from the old page: it swaps <body>'s content only (docs/architecture.md §5).

<html lang>, <meta name="csrf-token"> and <body hx-headers> stay as the first
full page load rendered them, so the forms that change the session (sign-in
rotates it, the language switch changes the locale) are not boosted.
"""
import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import wait_for_htmx
from tests.e2e.test_sms_login_journey import MSISDN, sign_in, url_path_is


@pytest.mark.parametrize("js", [
    pytest.param(True, id="js-on"),
    pytest.param(False, id="js-off"),
])
def test_the_language_switch_updates_html_lang(page_factory, live_server, js):
    page = page_factory(js)
    page.goto("/auth/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("footer form[action='/auth/language'] button[name=lang][value=ru]").click()
    expect(page.locator("footer button[name=lang][value=ru]")).to_have_attribute("aria-current", "true")
    expect(page.locator("html")).to_have_attribute("lang", "ru", timeout=2_000)


def test_htmx_csrf_header_still_valid_after_a_boosted_sign_in(page_factory, live_server):
    with live_server.app_context() as session:
        factories.ensure_login(session, MSISDN)  # a line and a login with a permanent password
    page = page_factory(True)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    wait_for_htmx(page)  # the dashboard is a whole-page load: htmx comes after its first paint
    # An htmx POST that carries the token only in the X-CSRFToken header (no form field),
    # as a future hx-post button would: the footer's language switch, without its hidden field.
    status = page.evaluate("""() => new Promise(resolve => {
        document.body.addEventListener('htmx:afterRequest', e => resolve(e.detail.xhr.status), {once: true});
        htmx.ajax('POST', '/auth/language', {source: document.body, swap: 'none', values: {lang: 'en'}});
    })""")
    assert status != 400, "the CSRF token htmx sends belongs to the session before sign-in"


def test_htmx_arrives_after_the_page_has_loaded_and_then_boosts_links(page_factory, live_server):
    """On 2G its 15 KB would hold back the first paint (docs/architecture.md §6): portal.js asks for it
    once the page has loaded and painted."""
    page = page_factory(True)
    page.goto("/auth/password")  # returns once htmx is there (tests/e2e/conftest.py)
    timing = page.evaluate("""() => ({
        load: performance.getEntriesByType('navigation')[0].loadEventStart,
        paint: performance.getEntriesByType('paint').map(e => e.startTime),
        htmx: performance.getEntriesByType('resource').filter(e => e.name.includes('/static/htmx-'))
                                                       .map(e => e.startTime),
    })""")
    assert len(timing["htmx"]) == 1
    assert timing["htmx"][0] >= timing["load"]
    assert timing["paint"] and timing["htmx"][0] >= min(timing["paint"])
    # Once it is there, links are boosted: the next page comes without a new document.
    page.evaluate("window.samePage = true")
    page.locator("main a[href^='/auth/login']").click()
    expect(page).to_have_url(url_path_is("/auth/login"))
    assert page.evaluate("window.samePage === true")
