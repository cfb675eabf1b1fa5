"""A stolen phone, JavaScript on and off: the customer has a feed key (made in the settings) and a passkey; staff
see both on the customer page, shut every way in after checking the caller, and the customer's next page asks them
to sign in."""
import pytest
from playwright.sync_api import expect

from portal.models import Passkey
from tests import factories
from tests.e2e.test_sms_login_journey import MSISDN, sign_in, url_path_is

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@JS
def test_staff_shut_every_way_in_of_a_stolen_phone(page_factory, live_server, js):
    with live_server.app_context() as session:
        factories.make_staff(session, email="agent@example.com")
        login = factories.ensure_login(session, MSISDN)
        session.add(Passkey(login_id=login.id, credential_id="stolen-phone", user_handle="u", public_key=b"k",
                            name="Stolen phone"))
        session.commit()
        customer_id = login.primary_account.customer_id
    customer = page_factory(js)
    customer.goto("/auth/login")
    sign_in(customer, MSISDN, factories.PASSWORD)
    expect(customer).to_have_url(url_path_is("/"))
    customer.goto("/settings/feed")
    customer.locator("#feed-key-form input[name=name]").fill("Home screen widget")
    customer.locator("#feed-key-form button[type=submit]").click()
    expect(customer.locator("#new-key")).to_be_visible()

    staff = customer.context.browser.new_context(base_url=live_server.url, java_script_enabled=js).new_page()
    staff.goto("/admin/login")
    staff.locator("main form input[name=email]").fill("agent@example.com")
    staff.locator("main form input[name=password]").fill(factories.PASSWORD)
    staff.locator("main form[action='/admin/login'] button[type=submit]").click()
    expect(staff).to_have_url(url_path_is("/admin/"))
    staff.goto(f"/admin/customers/{customer_id}")
    ways_in = staff.locator("#ways-in")
    expect(ways_in).to_contain_text("Stolen phone")
    expect(ways_in).to_contain_text("Home screen widget")
    expect(ways_in).to_contain_text("1 open web session")

    shut = ways_in.locator("form[id^=shut-]")
    shut.get_by_role("button", name="Shut every way in").click()  # the box not ticked: said next to it
    expect(staff.locator("#ways-in form[id^=shut-] .error")).to_contain_text("Tick the box")
    staff.locator("#ways-in form[id^=shut-] input[name=confirm]").check()
    staff.locator("#ways-in form[id^=shut-]").get_by_role("button", name="Shut every way in").click()
    expect(staff.locator(".flash")).to_contain_text("Every way in is shut")
    expect(staff.locator("#ways-in")).to_contain_text("0 open web sessions")
    expect(staff.locator("#ways-in")).not_to_contain_text("Stolen phone")
    expect(staff.locator("#ways-in")).not_to_contain_text("Home screen widget")
    staff.context.close()

    customer.goto("/")
    expect(customer).to_have_url(url_path_is("/auth/login"))
