"""Blocking a lost number and unblocking it with the password; sending an SMS from the site.

JavaScript on and off. Elements are found by id and name, never by visible text
(the UI is translated); what is checked on the page is the test data's own
(numbers, digits) or an attribute.
"""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Account, LoginAccount, SmsMessage, WebSms
from tests import factories
from tests.e2e.test_sms_login_journey import sign_in, url_path_is

MAIN = "+79161234567"
SECOND = "+79031112233"
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def lines(live_server):
    with live_server.app_context() as session:
        main = factories.make_line(session, MAIN, balance=50_000)
        login = factories.make_login(session, main)
        second = factories.make_line(session, SECOND, customer=main.customer)
        session.add(LoginAccount(login_id=login.id, account_id=second.id))
        factories.make_allowance(session, main, sms_left=10)
        session.commit()
        return main.id, second.id


def status_of(live_server, account_id):
    with live_server.app_context() as session:
        return session.scalar(select(Account.status).where(Account.id == account_id))


def signed_in_page(page_factory, js):
    page = page_factory(js=js)
    page.goto("/auth/login")
    sign_in(page, MAIN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    return page


@JS
def test_block_a_lost_number_and_unblock_it_with_the_password(page_factory, live_server, lines, js):
    main_id, second_id = lines
    page = signed_in_page(page_factory, js)
    page.goto(f"/numbers/{second_id}/")
    expect(page.locator("#line-status")).to_have_class(re.compile("status-active"))

    page.locator("#block-lost").click()
    expect(page).to_have_url(url_path_is(f"/numbers/{second_id}/block"))
    expect(page.locator("#block-form input[name=reason]")).to_have_value("lost")
    page.locator("#block-confirm").click()

    expect(page).to_have_url(url_path_is(f"/numbers/{second_id}/"))
    expect(page.locator("#line-status")).to_have_class(re.compile("status-blocked_lost"))
    expect(page.locator(".flash")).to_have_count(1)
    assert status_of(live_server, second_id) == "blocked_lost"
    with live_server.app_context() as session:
        [notice] = session.scalars(select(SmsMessage).where(SmsMessage.to == MAIN)).all()
        assert "+7 903 111-22-33" in notice.text

    page.locator("#unblock-link").click()
    expect(page).to_have_url(url_path_is(f"/numbers/{second_id}/unblock"))
    form = page.locator("#unblock-form")
    form.locator("input[name=password]").fill("not-my-password")
    form.locator("input[name=confirm]").check()
    form.locator("#unblock-confirm").click()
    expect(page.locator("#password-error")).to_be_visible()
    assert status_of(live_server, second_id) == "blocked_lost"

    form = page.locator("#unblock-form")
    form.locator("input[name=password]").fill(factories.PASSWORD)
    form.locator("input[name=confirm]").check()
    form.locator("#unblock-confirm").click()
    expect(page).to_have_url(url_path_is(f"/numbers/{second_id}/"))
    expect(page.locator("#line-status")).to_have_class(re.compile("status-active"))
    assert status_of(live_server, second_id) == "active"


@JS
def test_send_an_sms_from_the_site(page_factory, live_server, lines, js):
    main_id, _ = lines
    page = signed_in_page(page_factory, js)
    page.goto(f"/numbers/{main_id}/")
    page.locator("#sms-link").click()
    expect(page).to_have_url(url_path_is("/numbers/sms"))
    counter = page.locator("#sms-counter")
    text = page.locator("#sms-text")
    if js:
        text.fill("a" * 161)
        expect(counter).to_be_visible()
        expect(counter).to_contain_text(re.compile(r"\b161\b\D+\b2\b"))  # 161 characters, 2 parts
        expect(counter).to_contain_text(counter.get_attribute("data-gsm7"))
        text.fill("Привет 😀")
        expect(counter).to_contain_text(counter.get_attribute("data-ucs2"))
        expect(counter).to_contain_text(re.compile(r"\b8\b\D+\b1\b.*\b61\b"))  # 8 characters, 1 part, 61 left
    else:
        expect(counter).to_be_hidden()
    page.locator("input[name=to]").fill("8 903 111-22-33")
    text.fill("Meet you at " + "the station " * 15)  # 192 characters: 2 parts
    page.locator("#sms-send").click()

    expect(page.locator(".flash")).to_contain_text("+7 903 111-22-33")
    expect(page.locator("#sms-recent tbody tr")).to_have_count(1)
    expect(page.locator("#sms-text")).to_have_value("")  # ready for another message
    if js:
        expect(page.locator("#sms-counter")).to_contain_text(re.compile(r"\b0\b"))
    with live_server.app_context() as session:
        sent = session.scalars(select(WebSms)).one()
        assert (sent.to, sent.parts, sent.from_allowance) == (SECOND, 2, 2)
        assert session.get(SmsMessage, sent.sms_message_id).sender == MAIN


def test_the_counter_in_the_page_counts_like_the_server(page_factory, live_server, lines):
    from portal.domain.websms import sms_parts

    page = signed_in_page(page_factory, True)
    page.goto("/numbers/sms")
    counter = page.locator("#sms-counter")
    samples = ["", "a" * 160, "a" * 161, "a" * 158 + "€", "a" * 159 + "{", "a" * 152 + "€" + "a" * 10,
               "б" * 70, "б" * 71, "😀" * 35, "😀" * 36, "a" * 69 + "😀", "line\nbreak", "ç", "Ç^"]
    for sample in samples:
        page.locator("#sms-text").fill(sample)
        encoding, parts, left = sms_parts(sample)
        expected = (counter.get_attribute("data-template").replace("{chars}", str(len(sample)))
                    .replace("{parts}", str(parts)).replace("{encoding}", counter.get_attribute(f"data-{encoding}"))
                    .replace("{left}", str(left)))
        expect(counter).to_have_text(expected)
