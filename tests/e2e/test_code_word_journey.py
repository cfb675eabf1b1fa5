"""The code word for support, JavaScript on and off: the customer sets it in the settings; staff, on the customer's
page, check a caller's answers and see only whether each matches."""
import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.test_sms_login_journey import MSISDN, sign_in, url_path_is

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@JS
def test_the_customer_sets_a_code_word_and_staff_check_an_answer(page_factory, live_server, js):
    with live_server.app_context() as session:
        customer_id = factories.ensure_login(session, MSISDN).primary_account.customer_id
        factories.make_staff(session, email="agent@example.com")
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/settings/")
    page.get_by_role("link", name="Code word for support").click()
    form = page.locator("#code-word-form")
    form.locator("input[name=word]").fill("abc")
    form.locator("button[type=submit]").click()
    expect(page.locator("#code-word-form")).to_contain_text("From 4 to 40 characters")
    page.locator("#code-word-form input[name=word]").fill("Red Fox")
    page.locator("#code-word-form button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("The code word is saved")
    expect(page.locator("#code-word-state")).to_contain_text("Set on")

    staff = page.context.browser.new_context(base_url=live_server.url, java_script_enabled=js).new_page()
    staff.goto("/admin/login")
    staff.locator("main form input[name=email]").fill("agent@example.com")
    staff.locator("main form input[name=password]").fill(factories.PASSWORD)
    staff.locator("main form[action='/admin/login'] button[type=submit]").click()
    expect(staff).to_have_url(url_path_is("/admin/"))
    staff.goto(f"/admin/customers/{customer_id}")
    box = staff.locator("#code-word")
    expect(box).to_contain_text("Ask the caller for the code word")
    assert "Red Fox" not in staff.content()
    box.locator("input[name=answer]").fill("blue fox")
    box.locator("button[type=submit]").click()
    expect(staff.locator(".flash")).to_contain_text("does NOT match")
    staff.locator("#code-word input[name=answer]").fill("red fox")
    staff.locator("#code-word button[type=submit]").click()
    expect(staff.locator(".flash")).to_contain_text("The answer matches")
    staff.context.close()
