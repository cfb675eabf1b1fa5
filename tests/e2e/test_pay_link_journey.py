"""Pay without a password, JavaScript on and off: the low-balance SMS carries a link; opened in a browser where
nobody is signed in, it shows the masked number and the amount due, and the card is paid on the provider's page;
a damaged link gets a clear page."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain import alerts, ledger
from portal.domain.audit import SYSTEM
from portal.models import Account, SmsMessage, utcnow
from portal.payment_gateway import dev as test_mode
from tests import factories
from tests.e2e.test_payments_journeys import PROVIDER_URL, type_card

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def config_overrides():
    return {"PUBLIC_URL": "http://portal.invalid"}  # the SMS's link; the test opens its path on the live server


def low_balance_sms(live_server) -> str:
    """A line set to be told below ₽900 is charged below it: the alert's link (its path)."""
    with live_server.app_context() as session:
        tariff = factories.make_tariff(session, monthly_fee=95000)
        line = factories.make_line(session, "+79161234567", tariff=tariff, balance=93600)
        alerts.save_settings(session, account_id=line.id, low_balance_below=90000, on_payment=True, on_change=True,
                             on_new_device=True, on_every_login=False, quiet_from=None, quiet_to=None,
                             actor=SYSTEM, now=utcnow())
        ledger.post(session, line, amount=-5000, kind="service_fee", key="fee", description="", now=utcnow())
        session.commit()
        text = session.scalar(select(SmsMessage.text).where(SmsMessage.purpose == "alert"))
    return re.search(r"http://portal\.invalid(/p/\S+)", text).group(1)


@JS
def test_the_link_in_the_sms_pays_with_no_sign_in(page_factory, live_server, js):
    path = low_balance_sms(live_server)
    page = page_factory(js)
    page.goto(path)
    expect(page.locator("h1")).to_contain_text("+7 916 ***-**-67")
    expect(page.locator("#due")).to_contain_text("₽64.00")  # ₽950 next month, ₽886 on the balance
    expect(page.locator("#pay-form input[name=amount]")).to_have_value("64")
    page.locator("#pay-form input[name=amount]").fill("100")
    page.locator("#pay-form button[type=submit]").click()
    expect(page).to_have_url(PROVIDER_URL)
    type_card(page, PROVIDER_URL.match(page.url).group(1), test_mode.SUCCEEDS)
    expect(page.locator("#pay-result")).to_contain_text("Paid.")
    assert "886" not in page.content()  # nothing of the line's but the masked number and amounts paid
    with live_server.app_context() as session:
        assert session.scalar(select(Account.balance)) == 88600 + 10000

    damaged = page.goto(path[:-4] + "abcd")
    assert damaged.status == 400
    expect(page.locator("h1")).to_contain_text("This link is damaged")
