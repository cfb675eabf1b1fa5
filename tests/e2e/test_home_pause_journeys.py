"""A home contract goes on holiday: pause from the dashboard, see the fee and the dates, confirm, resume early.

JavaScript on (the form's steps swap in place, the confirmation sends the browser to the dashboard) and off
(plain posts and redirects). Elements are found by id, name or form action, never by visible text.
"""
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Account, HomeContract, HomePause, LedgerEntry, utcnow
from tests import factories
from tests.e2e.test_sms_login_journey import Document, money_shown, sign_in, url_path_is

CONTRACT = "HC-100200"
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def contract(live_server) -> int:
    with live_server.app_context() as session:
        tariff = factories.make_tariff(session, kind="home", name="Home 500 + TV", monthly_fee=99_000,
                                       pause_monthly_fee=24_900, unlimited_data=True, speed_mbps=500,
                                       minutes=0, sms=0, data_mb=0, connection_types="gpon")
        customer = factories.make_customer(session)
        account = Account(customer=customer, kind="home", region="Moscow", tariff=tariff, balance=60_000)
        session.add_all([account, HomeContract(account=account, contract_no=CONTRACT, address="Moscow",
                                               connection_type="gpon", billing_day=1)])
        session.flush()
        session.add(LedgerEntry(account_id=account.id, amount=60_000, kind="adjustment"))
        factories.make_login(session, account)
        session.commit()
        return account.id


def state(live_server, account_id: int) -> tuple[str, list[tuple[str, int]]]:
    with live_server.app_context() as session:
        status = session.scalar(select(Account.status).where(Account.id == account_id))
        pauses = session.execute(select(HomePause.status, HomePause.monthly_fee)
                                 .where(HomePause.account_id == account_id)).all()
        return status, [tuple(p) for p in pauses]


@JS
def test_pausing_for_a_holiday_and_resuming_early(page_factory, live_server, contract, js):
    page = page_factory(js=js)
    page.goto("/auth/login")
    sign_in(page, CONTRACT, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("#home-plans")).to_be_visible()

    page.locator("#pause-link").click()
    expect(page).to_have_url(url_path_is("/home/pause"))
    form = page.locator("#pause-form")
    expect(form).to_contain_text(money_shown(live_server, 24_900))
    today = (utcnow() + timedelta(hours=3)).date()  # the customer's day (Moscow, the default zone)
    assert form.locator("input[name=start_on]").input_value() == today.isoformat()

    # Too short: the message sits next to the field, nothing is paused.
    document = Document(page) if js else None
    form.locator("input[name=days]").fill("5")
    form.locator("button[type=submit]").click()
    error = page.locator("#days-error")
    expect(error).to_be_visible()
    expect(page.locator("#days")).to_have_attribute("aria-invalid", "true")
    if js:
        assert document.kept(), "with JS the form is swapped in place"
    assert state(live_server, contract) == ("active", [])

    # Ten days: the end date and the fee are shown before confirming.
    page.locator("#pause-form input[name=days]").fill("10")
    page.locator("#pause-form button[type=submit]").click()
    confirm = page.locator("#pause-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(money_shown(live_server, 24_900))
    expect(confirm).to_contain_text(money_shown(live_server, 99_000))
    assert confirm.locator("input[name=days]").input_value() == "10"
    assert state(live_server, contract) == ("active", [])

    confirm.locator("button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("main .flash[role=status]")).to_be_visible()
    expect(page.locator("#pause-state")).to_be_visible()
    assert state(live_server, contract) == ("blocked_by_owner", [("active", 24_900)])

    page.locator("#home-plans #end-pause").click()
    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("#pause-link")).to_be_visible()
    assert state(live_server, contract) == ("active", [("ended", 24_900)])
