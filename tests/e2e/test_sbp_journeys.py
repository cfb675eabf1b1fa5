"""A top-up by СБП in a real browser, JavaScript on and off (README "Payments (development)").

The customer chooses СБП on the top-up form and lands on the portal's waiting page: the QR code (inline SVG) and
the bank app's button. The payer's "phone" (a second browser, nobody signed in there) opens what the QR code says,
the development provider's bank app, and approves; the waiting page then shows the result by itself: htmx polling
with JavaScript, the meta refresh without. An unpaid code expires and the page offers to try again. Elements are
found by name, id, class or href, never by visible text; what the browser shows is checked against the database.
"""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Account, CardPayment, LedgerEntry
from tests import factories
from tests.e2e.test_sms_login_journey import money_shown, sign_in, url_path_is

MSISDN = "+79031112233"
START = 100_000
SBP_URL = re.compile(r"^https?://[^/]+/payments/([A-Za-z0-9_-]{24})/sbp$")
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
# Longer than the page's own rhythm: the poll every 3 s, the refresh every 5 s, the provider asked every 5 s.
SETTLES_MS = 20_000


@pytest.fixture
def customer(live_server) -> int:
    with live_server.app_context() as session:
        account = factories.make_line(session, MSISDN, balance=START)
        factories.make_login(session, account)
        session.commit()
        return account.id


def signed_in(page_factory, js: bool):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    return page


def start_sbp(page, rubles: str) -> str:
    """The top-up form with СБП chosen; the waiting page opens. The payment's token."""
    page.goto("/payments/topup")
    form = page.locator("#topup-form")
    form.locator("input[name=amount]").fill(rubles)
    form.locator("input[name=method][value=sbp]").check()
    expect(form.locator("input[name=save_card]")).to_be_hidden()  # nothing to remember of an СБП payment
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(SBP_URL)
    return SBP_URL.match(page.url).group(1)


def the_payment(live_server, token: str) -> CardPayment:
    with live_server.app_context() as session:
        payment = session.scalars(select(CardPayment).where(CardPayment.token == token)).one()
        session.expunge(payment)
        return payment


def balance_of(live_server, account_id: int) -> int:
    with live_server.app_context() as session:
        return session.get(Account, account_id).balance


def expect_waiting(page, payment: CardPayment) -> None:
    box = page.locator("#sbp-payment")
    expect(box.locator("svg.qr[role=img]")).to_be_visible()
    expect(box.locator(f"a.button[href='{payment.confirmation_url}']")).to_be_visible()
    expect(box.locator(".flash, .error-box")).to_have_count(0)


def approve_on_the_phone(page_factory, payload: str, answer: str = "approve") -> None:
    """The payer scans the code: their bank app (the development provider's page) asks, they answer."""
    phone = page_factory(True)
    phone.goto(payload)
    expect(phone).to_have_url(re.compile(r"/dev/sbp/dev_[\w-]+\?"))
    phone.locator(f"main form button[name=answer][value={answer}]").click()
    expect(phone).not_to_have_url(re.compile(r"/dev/sbp/"))  # the bank sends the payer back to the shop


@JS
def test_an_sbp_top_up_is_approved_in_the_bank_app_and_the_page_follows(page_factory, live_server, customer, js):
    page = signed_in(page_factory, js)
    token = start_sbp(page, "750")
    payment = the_payment(live_server, token)
    assert (payment.method, payment.status, payment.amount) == ("sbp", "pending", 75_000)
    assert payment.qr_payload.startswith(f"{live_server.url}/dev/sbp/{payment.gateway_ref}?")
    expect_waiting(page, payment)
    page.wait_for_timeout(3_500)  # a poll (or a refresh) while waiting changes nothing
    expect_waiting(page, payment)

    approve_on_the_phone(page_factory, payment.qr_payload)
    box = page.locator("#sbp-payment")
    expect(box.locator(".flash")).to_be_visible(timeout=SETTLES_MS)
    expect(box).to_contain_text(money_shown(live_server, START + 75_000))
    expect(box.locator("svg.qr")).to_have_count(0)
    expect(page).to_have_url(SBP_URL)  # the same page, updated by itself
    assert balance_of(live_server, customer) == START + 75_000
    with live_server.app_context() as session:
        assert session.scalars(select(LedgerEntry.params).where(LedgerEntry.kind == "card_topup")).all() == \
            [{"kind": "sbp_payment"}]


@JS
def test_a_decline_in_the_bank_app_is_shown_with_a_way_to_try_again(page_factory, live_server, customer, js):
    page = signed_in(page_factory, js)
    token = start_sbp(page, "200")
    approve_on_the_phone(page_factory, the_payment(live_server, token).qr_payload, answer="decline")
    box = page.locator("#sbp-payment")
    expect(box.locator(".error-box")).to_be_visible(timeout=SETTLES_MS)
    box.locator("a.button[href^='/payments/topup?method=sbp']").click()
    expect(page).to_have_url(url_path_is("/payments/topup"))
    expect(page.locator("#topup-form input[name=method][value=sbp]")).to_be_checked()
    assert balance_of(live_server, customer) == START


@pytest.mark.parametrize("config_overrides", [{"PAYMENT_DEV_SBP_SECONDS": 2, "PAYMENT_ASK_EVERY": 1}])
@JS
def test_an_unpaid_code_expires_and_try_again_fills_the_form_in(page_factory, live_server, customer, js):
    page = signed_in(page_factory, js)
    token = start_sbp(page, "300")
    box = page.locator("#sbp-payment")
    expect(box.locator(".error-box")).to_be_visible(timeout=SETTLES_MS)
    expect(box.locator("svg.qr")).to_have_count(0)
    payment = the_payment(live_server, token)
    assert (payment.status, payment.decline_reason) == ("declined", "expired")
    box.locator("a.button[href^='/payments/topup?method=sbp']").click()
    expect(page).to_have_url(url_path_is("/payments/topup"))
    form = page.locator("#topup-form")
    expect(form.locator("input[name=method][value=sbp]")).to_be_checked()
    expect(form.locator("input[name=amount]")).to_have_value("300.00")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(SBP_URL)
    assert SBP_URL.match(page.url).group(1) != token  # a new payment
    assert balance_of(live_server, customer) == START


@pytest.mark.parametrize("width, first", [(360, "button"), (1280, "qr")])
def test_a_phone_shows_the_bank_app_button_first_and_a_wide_screen_the_qr_code(page_factory, live_server, customer,
                                                                                width, first):
    page = signed_in(page_factory, True)
    page.set_viewport_size({"width": width, "height": 800})
    start_sbp(page, "100")
    button = page.locator("#sbp-payment .sbp-app a.button").bounding_box()
    qr = page.locator("#sbp-payment svg.qr").bounding_box()
    assert (button["y"] < qr["y"]) == (first == "button"), (button, qr)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
