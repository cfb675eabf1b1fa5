"""Passkeys in Chromium with a virtual authenticator (the DevTools WebAuthn domain): sign in by SMS, add a passkey
on the devices page, sign out, sign in with it (no SMS), remove it. Without JavaScript the pages say passkeys need
it and the SMS path works as before.

WebAuthn needs a domain: the pages are opened at "localhost" (an IP address cannot be a relying party).
"""
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.models import Passkey, SmsMessage, Staff
from tests import factories
from tests.e2e.conftest import CAPTCHA_ANSWER
from tests.e2e.test_sms_login_journey import MSISDN, customer, sent_password, url_path_is  # noqa: F401

NEW_PASSWORD = "violet-otter-2718"


def at_localhost(live_server) -> str:
    return live_server.url.replace("127.0.0.1", "localhost")


def virtual_authenticator(page) -> tuple:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True}})
    return cdp, added["authenticatorId"]


def sms_count(live_server) -> int:
    with live_server.app_context() as session:
        return session.scalar(select(func.count()).select_from(SmsMessage))


def sign_in_by_sms(page, base: str, live_server) -> None:
    page.goto(base + "/auth/password?phone=%2B79161234567")
    form = page.locator("#sms-form")
    form.locator("input[name=captcha]").fill(CAPTCHA_ANSWER)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/auth/password/sent"))
    login = page.locator("#login-form")
    login.locator("input[name=password]").fill(sent_password(live_server))
    login.locator("button[type=submit]:not([formaction])").click()
    expect(page).to_have_url(url_path_is("/settings/password"))
    form = page.locator("#password-form")
    form.locator("input[name=new_password]").fill(NEW_PASSWORD)
    form.locator("input[name=confirm]").fill(NEW_PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/"))


def add_passkey(page, base: str, name: str, *, by_link: bool = False) -> None:
    if by_link:  # a boosted navigation: htmx drops the page's <script>, portal.js loads it (data-script)
        page.goto(base + "/settings/")
        page.locator("main a[href='/settings/sessions']").click()
        expect(page).to_have_url(url_path_is("/settings/sessions"))
    else:
        page.goto(base + "/settings/sessions")
    form = page.locator("#passkey-form")
    expect(form).to_be_visible()
    form.locator("input[name=name]").fill(name)
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text(name)
    expect(page.locator("#passkey-list")).to_contain_text(name)


def remove_passkey(page, base: str) -> None:
    page.goto(base + "/settings/sessions")
    page.locator("#passkey-list a").first.click()
    page.locator("#passkey-remove button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/settings/sessions"))
    expect(page.locator("#passkey-list")).to_have_count(0)


def sign_out(page) -> None:
    """Through the page's own (boosted) form: the sign-in page arrives by htmx, and portal.js loads its script."""
    page.locator("form[action='/auth/logout'] button").first.click()


def test_add_a_passkey_the_browsers_autofill_signs_in_with_it_without_sms(page_factory, live_server,
                                                                           customer):  # noqa: F811
    """Chromium's virtual authenticator answers the sign-in page's conditional (autofill) request at once."""
    base = at_localhost(live_server)
    page = page_factory(True)
    cdp, authenticator = virtual_authenticator(page)
    sign_in_by_sms(page, base, live_server)
    add_passkey(page, base, "Test phone")
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]) == 1
    sms_before = sms_count(live_server)
    with page.expect_request(lambda r: r.url.endswith("/auth/passkey") and r.method == "POST"):
        sign_out(page)
    expect(page).to_have_url(url_path_is("/"))
    assert sms_count(live_server) == sms_before, "a passkey sign-in sends no SMS"
    page.goto(base + "/settings/sessions")
    expect(page.locator("#passkey-list")).not_to_contain_text("not used yet")
    remove_passkey(page, base)
    with live_server.app_context() as session:
        assert session.scalar(select(func.count()).select_from(Passkey)) == 0


def test_the_sign_in_button_where_the_browser_has_no_autofill_for_passkeys(page_factory, live_server,
                                                                          customer):  # noqa: F811
    base = at_localhost(live_server)
    page = page_factory(True)
    page.add_init_script("PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);")
    virtual_authenticator(page)
    sign_in_by_sms(page, base, live_server)
    add_passkey(page, base, "Laptop", by_link=True)
    sign_out(page)
    expect(page).to_have_url(url_path_is("/auth/login"))
    sms_before = sms_count(live_server)
    page.locator("#passkey-sign-in button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/"))
    assert sms_count(live_server) == sms_before, "a passkey sign-in sends no SMS"

    # Removed, the passkey the device still holds opens nothing: the page says so and stays.
    remove_passkey(page, base)
    sign_out(page)
    page.locator("#passkey-sign-in button[type=submit]").click()
    expect(page.locator("#passkey-sign-in [data-passkey-error]")).to_be_visible()
    expect(page).to_have_url(url_path_is("/auth/login"))


def test_an_autofill_request_that_ends_by_itself_shows_no_error(page_factory, live_server):
    """The walk found it: with no authenticator the browser ends the autofill (conditional) request at once, and
    the page said "the device did not confirm it" to someone who had pressed nothing."""
    page = page_factory(True)
    page.add_init_script("PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(true);"
                         "navigator.credentials.get = () => Promise.reject(new DOMException('no', 'NotAllowedError'));")
    page.goto(at_localhost(live_server) + "/auth/login")
    expect(page.locator("#passkey-sign-in button[type=submit]")).to_be_visible()
    page.wait_for_timeout(300)  # the refused promise settles right after load
    expect(page.locator("#passkey-sign-in [data-passkey-error]")).to_be_hidden()
    page.locator("#passkey-sign-in button[type=submit]").click()  # a press that fails does say so
    expect(page.locator("#passkey-sign-in [data-passkey-error]")).to_be_visible()


@pytest.mark.parametrize("js", [False], ids=["js-off"])
def test_without_javascript_the_pages_say_passkeys_need_it(page_factory, live_server, customer, js):  # noqa: F811
    base = at_localhost(live_server)
    page = page_factory(js)
    page.goto(base + "/auth/login")
    expect(page.locator("#passkey-sign-in")).to_be_hidden()
    # Playwright's text skips <noscript>; the browser shows it with scripts off.
    assert "Signing in with a passkey needs JavaScript" in page.locator("main noscript").inner_html()
    sign_in_by_sms(page, base, live_server)
    page.goto(base + "/settings/sessions")
    expect(page.locator("#passkey-form")).to_be_hidden()
    assert "Adding a passkey needs JavaScript" in page.locator("#passkeys noscript").inner_html()


def test_staff_add_a_passkey_and_then_sign_in_with_password_and_passkey(page_factory, live_server):
    with live_server.app_context() as session:
        factories.make_staff(session, email="agent@example.com")
    base = at_localhost(live_server)
    page = page_factory(True)
    page.add_init_script("PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);")
    virtual_authenticator(page)

    def password_step():
        page.goto(base + "/admin/login")
        page.locator("main form input[name=email]").fill("agent@example.com")
        page.locator("main form input[name=password]").fill(factories.PASSWORD)
        page.locator("main form[action='/admin/login'] button[type=submit]").click()

    password_step()
    expect(page).to_have_url(url_path_is("/admin/"))
    page.locator("a[href='/admin/passkeys']").click()
    form = page.locator("#passkey-form")
    form.locator("input[name=name]").fill("Desk key")
    form.locator("button[type=submit]").click()
    expect(page.locator("#passkey-list")).to_contain_text("Desk key")
    with live_server.app_context() as session:
        session.scalar(select(Staff)).passkey_required = True
        session.commit()
    page.locator("form[action='/admin/logout'] button").first.click()

    password_step()
    expect(page).to_have_url(url_path_is("/admin/login/passkey"))
    page.locator("#passkey-sign-in button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/admin/"))
