"""Switch settings in a real browser, JavaScript on and off: call forwarding saved, refused with the
reason next to the field, failed in the network and tried again from the page."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import ForwardingRule, SwitchCommand
from tests import factories
from tests.e2e.test_sms_login_journey import MSISDN, sign_in, url_path_is

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
FRIEND = "+79031112233"


@pytest.fixture
def customer(live_server):
    with live_server.app_context() as session:
        account = factories.make_line(session, MSISDN, balance=25_000)
        factories.make_login(session, account)
        session.commit()


def rules(live_server):
    with live_server.app_context() as session:
        return {(r.condition, r.target, r.enabled, r.seconds) for r in session.scalars(select(ForwardingRule))}


@JS
def test_set_forwarding_be_refused_then_retry_a_failed_change(page_factory, live_server, customer, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.locator("nav a[href='/settings/']").click()
    page.locator("main a[href='/settings/forwarding']").click()
    expect(page).to_have_url(url_path_is("/settings/forwarding"))

    # Forwarding to the number itself is refused next to the field, nothing saved.
    busy = page.locator("#fwd-busy")
    busy.locator("input[name=busy-enabled]").check()
    busy.locator("input[name=busy-target]").fill("8 916 123-45-67")
    busy.locator("button[type=submit]").click()
    expect(page.locator("#fwd-busy .error")).to_contain_text("the number itself")
    assert rules(live_server) == set()

    # A good number: saved and applied in the network.
    page.locator("#fwd-busy input[name=busy-target]").fill("8 903 111-22-33")
    page.locator("#fwd-busy button[type=submit]").click()
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("#fwd-busy .switch-applied")).to_be_visible()
    assert rules(live_server) == {("busy", FRIEND, True, None)}

    # The switch refuses the next change: the page says so and offers to try again.
    live_server.app.config["PROVISIONING_FAIL_NUMBERS"] = [MSISDN]
    no_answer = page.locator("#fwd-no_answer")
    no_answer.locator("input[name=no_answer-enabled]").check()
    no_answer.locator("input[name=no_answer-target]").fill(FRIEND)
    no_answer.locator("input[name=no_answer-seconds]").fill("10")
    no_answer.locator("button[type=submit]").click()
    expect(page.locator("#fwd-no_answer .switch-failed")).to_be_visible()
    live_server.app.config["PROVISIONING_FAIL_NUMBERS"] = []
    page.locator("#fwd-no_answer button", has_text="Try again").click()
    expect(page.locator("#fwd-no_answer .switch-applied")).to_be_visible()
    with live_server.app_context() as session:
        statuses = [c.status for c in session.scalars(select(SwitchCommand).order_by(SwitchCommand.id))]
    assert statuses == ["applied", "applied"]
