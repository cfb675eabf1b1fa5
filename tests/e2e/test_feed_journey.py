"""The balance feed, JavaScript on and off: a customer makes a key in the settings, opens the balance page a
widget would show (no sign-in), and revokes the key, after which its links read nothing."""
import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.test_sms_login_journey import MSISDN, sign_in, url_path_is

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@JS
def test_a_customer_makes_a_key_reads_the_balance_page_and_revokes_it(page_factory, live_server, js):
    with live_server.app_context() as session:
        login = factories.ensure_login(session, MSISDN)
        login.primary_account.balance = 93600
        session.commit()
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/settings/")
    page.get_by_role("link", name="Balance for widgets").click()
    expect(page).to_have_url(url_path_is("/settings/feed"))

    page.locator("#feed-key-form button[type=submit]").click()  # no name: said next to the field
    expect(page.locator("#feed-key-form")).to_contain_text("Name the key")
    page.locator("#feed-key-form input[name=name]").fill("Widget on my phone")
    page.locator("#feed-key-form button[type=submit]").click()
    expect(page.locator("#new-key")).to_contain_text("shown only this once")
    secret = page.locator("#new-key code.secret").inner_text()
    widget_url = page.get_by_role("link", name="the balance page").get_attribute("href")

    visitor = page.context.browser.new_context(base_url=live_server.url, java_script_enabled=js).new_page()
    visitor.goto(widget_url)  # another browser, nobody signed in: what a home-screen shortcut opens
    expect(visitor.locator("#feed")).to_contain_text("936.00")
    expect(visitor.locator("#feed")).to_contain_text("916 123-45-67")
    answer = visitor.request.get("/feed.json", headers={"Authorization": f"Bearer {secret}"})
    assert answer.ok and answer.json()["accounts"][0]["balance_kopecks"] == 93600

    page.goto("/settings/feed")
    expect(page.locator("#feed-keys")).to_contain_text("last read")
    assert secret not in page.content()
    page.locator("#feed-keys button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("is revoked")
    expect(page.locator("#feed-keys")).to_contain_text("revoked")
    assert visitor.goto(widget_url).status == 404
    visitor.context.close()
