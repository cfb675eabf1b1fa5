"""Settings in a real browser, JavaScript on and off: switching the personal account off with
an SMS code and on again with an SMS password; signing another device out."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Login, LoginSession, SmsMessage
from tests import factories
from tests.e2e.test_sms_login_journey import (
    MSISDN,
    open_sms_page_from_login,
    sent_password,
    sign_in,
    submit_captcha,
    url_path_is,
)

NEW_PASSWORD = "copper-finch-4410"
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def customer(live_server):
    with live_server.app_context() as session:
        account = factories.make_line(session, MSISDN, balance=25_000)
        login = factories.make_login(session, account)
        session.commit()
        return login.id


def last_close_code(live_server) -> str:
    with live_server.app_context() as session:
        text = session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "close_code")
                               .order_by(SmsMessage.id.desc())).first()
        return re.search(r"\b(\d{6})\b", text).group(1)


@JS
def test_switch_the_personal_account_off_and_on_again(page_factory, live_server, customer, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))

    page.locator("nav a[href='/settings/']").click()
    page.locator("main a[href='/settings/close']").click()
    page.locator("#close-code button[type=submit]").click()
    expect(page.locator(".flash")).to_be_visible()  # "the code is sent"
    form = page.locator("#close-form")
    form.locator("input[name=code]").fill(last_close_code(live_server))
    form.locator("input[name=confirm]").check()
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/auth/login"))
    expect(page.locator(".flash")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(url_path_is("/auth/login"))

    # The old password is refused; an SMS password switches it on again.
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page.locator("#login-form .error").first).to_be_visible()
    open_sms_page_from_login(page, MSISDN)
    submit_captcha(page)
    sign_in(page, MSISDN, sent_password(live_server))
    expect(page).to_have_url(url_path_is("/settings/password"))
    with live_server.app_context() as session:
        assert session.get(Login, customer).enabled is True


@JS
def test_sign_another_device_out(page_factory, live_server, customer, js):
    phone, laptop = page_factory(js), page_factory(js)
    for page in (phone, laptop):
        page.goto("/auth/login")
        sign_in(page, MSISDN, factories.PASSWORD)
        expect(page).to_have_url(url_path_is("/"))
    laptop.goto("/settings/sessions")
    expect(laptop.locator("#sessions li")).to_have_count(2)
    laptop.locator("#end-others button[type=submit]").click()
    expect(laptop.locator("#sessions li")).to_have_count(1)
    phone.goto("/")
    expect(phone).to_have_url(url_path_is("/auth/login"))
    with live_server.app_context() as session:
        assert len(session.scalars(select(LoginSession).where(LoginSession.revoked_at.is_(None))).all()) == 1
