"""The development USSD phone, JavaScript on and off: dial the balance, then take a promised payment by code."""
import pytest
from playwright.sync_api import expect

from tests import factories

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@JS
def test_dialling_the_balance_and_the_promised_payment(page_factory, live_server, js):
    with live_server.app_context() as session:
        line = factories.make_line(session, "+79161234567", balance=93600)
        factories.make_login(session, line, language="en")
        session.commit()
    page = page_factory(js)
    page.goto("/dev/ussd")
    form = page.locator("#ussd-form")
    form.locator("input[name=msisdn]").fill("8 916 123-45-67")
    form.locator("input[name=code]").fill("*100#")
    form.locator("button[type=submit]").click()
    expect(page.locator("#ussd-answer")).to_have_text("Balance: ₽936.00.")
    page.locator("#ussd-form input[name=code]").fill("*106*100#")
    page.locator("#ussd-form button[type=submit]").click()
    expect(page.locator("#ussd-answer")).to_contain_text("₽100.00 is on your balance")
