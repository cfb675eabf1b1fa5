"""A home contract takes a promised payment, JavaScript on and off: 15 days (not mobile's 3), the dashboard
counts them down, and a top-up repays it."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import PromisedPayment
from tests import factories
from tests.e2e.test_sms_login_journey import money_shown, sign_in, url_path_is

CONTRACT = "HC-100200"
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def contract(live_server) -> int:
    with live_server.app_context() as session:
        account = factories.make_home_contract(session, CONTRACT, balance=5_000)
        factories.make_login(session, account)
        session.commit()
        return account.id


@JS
def test_a_home_contract_takes_a_promised_payment_and_sees_the_countdown(page_factory, live_server, contract, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, CONTRACT, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("#promise")).to_have_count(0)

    page.goto("/payments/promised")
    form = page.locator("main form[action='/payments/promised']")
    form.locator("input[name=amount]").fill("150")
    form.locator("button[type=submit]").click()
    expect(page.locator("main .card[role=status] strong")).to_contain_text(money_shown(live_server, 15_000))
    with live_server.app_context() as session:
        promise = session.scalars(select(PromisedPayment).where(PromisedPayment.account_id == contract)).one()
        assert promise.due_at - promise.created_at == timedelta(days=live_server.app.config["PROMISED_DAYS"]["home"])

    page.goto("/")
    expect(page.locator("#promise")).to_contain_text("15 days left")
