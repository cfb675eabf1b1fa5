"""The payments pages in a real browser, with JavaScript on and off (README "Payments (development)").

A signed-in customer tops up with each test card on the development provider's hosted page (and with a saved
card in one tap), sends money to another of
our numbers, redeems a prepaid card, takes a promised payment and repays it,
and reads the report.  Elements are found by name, id, role, href or form
action, never by visible text: money and labels are compared with what the
app itself renders for the test locale.  What the browser shows is checked
against the database.
"""
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain import history
from portal.domain.audit import SYSTEM
from portal.domain.vouchers import issue_vouchers
from portal.models import (
    Account,
    CardPayment,
    LedgerEntry,
    PromisedPayment,
    SmsMessage,
    Transfer,
    utcnow,
)
from portal.payment_gateway import dev as test_mode
from tests import factories
from tests.e2e.test_sms_login_journey import Document, money_shown, sign_in, url_path_is

MSISDN = "+79031112233"
OTHER_MSISDN = "+79035556677"
OTHER_TYPED = "8 903 555-66-77"
START = 300_000  # kopecks: 3 000 ₽, enough for the 1 500 ₽ transfer
OTHER_START = 10_000

CVC = "123"
_today = date.today()
EXPIRY = f"{_today.month:02d}/{(_today.year + 3) % 100:02d}"  # any future date

# /payments/<token> (tokens: secrets.token_urlsafe(18), 24 characters), the provider's page /dev/pay/<reference>
# and its 3-D Secure page; no named groups: Playwright hands these to JavaScript.
STATUS_URL = re.compile(r"^https?://[^/]+/payments/([A-Za-z0-9_-]{24})$")
PROVIDER_URL = re.compile(r"^https?://[^/]+/dev/pay/(dev_[A-Za-z0-9_-]{24})$")
THREE_DS_URL = re.compile(r"^https?://[^/]+/dev/pay/(dev_[A-Za-z0-9_-]{24})/3ds$")
TRANSFER_URL = re.compile(r"^https?://[^/]+/payments/transfer/([A-Za-z0-9_-]{24})$")

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


# ---- data -------------------------------------------------------------------------

@pytest.fixture
def customer(live_server) -> int:
    """The signed-in customer's account id: one mobile line with START on it and a permanent password."""
    with live_server.app_context() as session:
        account = factories.make_line(session, MSISDN, balance=START)
        factories.make_login(session, account)
        session.commit()
        return account.id


@pytest.fixture
def recipient(live_server) -> int:
    """Another of our numbers (another customer), for transfers."""
    with live_server.app_context() as session:
        account = factories.make_line(session, OTHER_MSISDN, balance=OTHER_START)
        session.commit()
        return account.id


def balance_of(live_server, account_id: int) -> int:
    with live_server.app_context() as session:
        return session.get(Account, account_id).balance


def entries_of(live_server, account_id: int, kind: str | None = None) -> list[tuple[str, int]]:
    """(kind, amount) of the account's ledger entries, oldest first."""
    with live_server.app_context() as session:
        stmt = select(LedgerEntry.kind, LedgerEntry.amount).where(LedgerEntry.account_id == account_id)
        if kind:
            stmt = stmt.where(LedgerEntry.kind == kind)
        return [tuple(row) for row in session.execute(stmt.order_by(LedgerEntry.id))]


def card_payments(live_server, account_id: int) -> list[tuple[str, int]]:
    with live_server.app_context() as session:
        return [tuple(row) for row in session.execute(
            select(CardPayment.status, CardPayment.amount).where(CardPayment.account_id == account_id)
            .order_by(CardPayment.id))]


def label_shown(live_server, kind: str) -> str:
    """A ledger kind the way the report names it for a visitor without a language choice."""
    with live_server.app.test_request_context("/"):
        return str(history.KIND_LABELS[kind])


def sent_transfer_code(live_server) -> str:
    with live_server.app_context() as session:
        message = session.scalars(select(SmsMessage).where(SmsMessage.to == MSISDN)
                                  .order_by(SmsMessage.id.desc())).first()
        assert message is not None, "no SMS was queued"
        assert message.purpose == "transfer_code"
        found = re.search(r"(?:code|код) (\d{6})\b", message.text)
        assert found, message.text
        return found.group(1)


# ---- steps --------------------------------------------------------------------------

def signed_in(page_factory, js: bool):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    return page


def rubles(kopecks: int) -> str:
    """What a customer types in an amount field."""
    return f"{kopecks // 100}" if kopecks % 100 == 0 else f"{kopecks // 100}.{kopecks % 100:02d}"


def fill_topup(page, kopecks: int, *, save: bool = False) -> None:
    """The portal's form asks the amount only: no card field is on the portal's page."""
    expect(page).to_have_url(url_path_is("/payments/topup"))
    form = page.locator("#topup-form")
    form.locator("input[name=amount]").fill(rubles(kopecks))
    if save:
        form.locator("input[name=save_card]").check()
    for field in ("card_number", "expiry", "cvc"):
        expect(page.locator(f"input[name={field}]")).to_have_count(0)


def go_to_provider(page, kopecks: int, *, save: bool = False) -> str:
    """Fill and send the top-up form; the provider's page opens. Its payment reference."""
    fill_topup(page, kopecks, save=save)
    page.locator("#topup-form button[type=submit]").click()
    expect(page).to_have_url(PROVIDER_URL)
    return PROVIDER_URL.match(page.url).group(1)


def type_card(page, reference: str, card: str) -> None:
    """On the provider's page: the card, typed the way it is printed on it."""
    form = page.locator(f"main form[action='/dev/pay/{reference}']")
    form.locator("input[name=card_number]").fill(" ".join(re.findall("....", card)))
    form.locator("input[name=expiry]").fill(EXPIRY)
    form.locator("input[name=cvc]").fill(CVC)
    form.locator("button[type=submit]").click()


def pay_by_card(page, kopecks: int, card: str, *, save: bool = False) -> str:
    """A whole top-up from the portal's form through the provider's page; the reference at the provider."""
    page.goto("/payments/topup")
    reference = go_to_provider(page, kopecks, save=save)
    type_card(page, reference, card)
    expect(page).to_have_url(THREE_DS_URL if card == test_mode.NEEDS_3DS else STATUS_URL)
    return reference


def expect_paid(page, live_server, kopecks: int, balance: int) -> None:
    """The status page of a confirmed payment: paid, and the new balance."""
    expect(page).to_have_url(STATUS_URL)
    box = page.locator("main .card[role=status]")
    expect(box.locator(".flash")).to_be_visible()
    expect(box.locator(".error-box")).to_have_count(0)
    expect(box).to_contain_text(money_shown(live_server, balance))
    expect(page.locator("main h1")).to_contain_text(money_shown(live_server, kopecks))


def expect_declined(page) -> None:
    expect(page).to_have_url(STATUS_URL)
    box = page.locator("main .card[role=status]")
    expect(box.locator(".error-box")).to_be_visible()
    expect(box.locator(".flash")).to_have_count(0)
    expect(box.locator("a[href='/payments/topup']")).to_be_visible()  # "try another card"


def dashboard_balance(page, live_server, balance: int) -> None:
    page.locator("header nav a[href='/']").click()
    expect(page).to_have_url(url_path_is("/"))
    expect(page.locator("#summary .balance")).to_have_text(money_shown(live_server, balance))


# ---- 1. top-up by card --------------------------------------------------------------------

@JS
def test_card_topup_paid_then_declined(page_factory, live_server, customer, js):
    page = signed_in(page_factory, js)

    # Paid: from the dashboard's "top up" link, the card typed on the provider's page, back on the portal.
    page.locator("nav.quick a[href='/payments/topup']").click()
    expect(page).to_have_url(url_path_is("/payments/topup"))
    reference = go_to_provider(page, 25_000)
    expect(page.locator("main .bank-amount")).to_have_text(money_shown(live_server, 25_000))
    assert balance_of(live_server, customer) == START  # nothing moves before the provider's word
    assert card_payments(live_server, customer) == [("pending", 25_000)]
    type_card(page, reference, test_mode.SUCCEEDS)
    expect_paid(page, live_server, 25_000, START + 25_000)
    assert balance_of(live_server, customer) == START + 25_000
    assert entries_of(live_server, customer, "card_topup") == [("card_topup", 25_000)]
    assert card_payments(live_server, customer) == [("confirmed", 25_000)]
    # The card number itself is never shown back, only its last 4 digits.
    assert "4242 4242" not in page.content() and test_mode.SUCCEEDS not in page.content()
    expect(page.locator("main .card[role=status]")).to_contain_text("*4242")
    dashboard_balance(page, live_server, START + 25_000)

    # Declined: the status page says so, nothing moves.
    pay_by_card(page, 10_000, test_mode.DECLINED)
    expect_declined(page)
    page.locator("main .card[role=status] a[href='/payments/topup']").click()
    expect(page).to_have_url(url_path_is("/payments/topup"))
    assert balance_of(live_server, customer) == START + 25_000
    assert entries_of(live_server, customer, "card_topup") == [("card_topup", 25_000)]
    assert card_payments(live_server, customer) == [("confirmed", 25_000), ("declined", 10_000)]
    dashboard_balance(page, live_server, START + 25_000)


@JS
def test_card_topup_with_3ds_wrong_codes_declines_right_code_pays(page_factory, live_server, customer, js):
    page = signed_in(page_factory, js)

    # A wrong code on the bank's page may be typed again, three tries; the third wrong one declines.
    reference = pay_by_card(page, 30_000, test_mode.NEEDS_3DS)
    form = page.locator(f"main form[action='/dev/pay/{reference}/3ds']")
    expect(form.locator("input[name=code]")).to_be_visible()
    expect(form).to_contain_text(money_shown(live_server, 30_000))
    for left in ("2 tries left", "1 try left"):
        form.locator("input[name=code]").fill("0000")
        form.locator("button[type=submit]").click()
        expect(page.locator("#code-error")).to_contain_text(left)
        form = page.locator(f"main form[action='/dev/pay/{reference}/3ds']")
    form.locator("input[name=code]").fill("0000")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(STATUS_URL)
    expect_declined(page)
    assert balance_of(live_server, customer) == START
    # The bank's page of a decided payment takes no card any more.
    page.goto(f"/dev/pay/{reference}/3ds")
    expect(page).to_have_url(PROVIDER_URL)
    expect(page.locator("main input[name=card_number]")).to_have_count(0)

    # A second payment: the customer wanders back to the portal meanwhile; its page leads back to the bank's.
    reference = pay_by_card(page, 30_000, test_mode.NEEDS_3DS)
    with live_server.app_context() as session:
        token = session.scalar(select(CardPayment.token).where(CardPayment.gateway_ref == reference))
    page.goto(f"/payments/{token}")
    page.locator(f"main .card[role=status] a[href='/dev/pay/{reference}']").click()
    expect(page).to_have_url(THREE_DS_URL)
    expect(page.locator("body.bank")).to_have_count(1)  # the provider's own page, not swapped into the portal's
    # The right code pays.
    form = page.locator(f"main form[action='/dev/pay/{reference}/3ds']")
    form.locator("input[name=code]").fill(test_mode.THREE_DS_CODE)
    form.locator("button[type=submit]").click()
    expect_paid(page, live_server, 30_000, START + 30_000)
    assert balance_of(live_server, customer) == START + 30_000
    assert entries_of(live_server, customer, "card_topup") == [("card_topup", 30_000)]
    assert card_payments(live_server, customer) == [("declined", 30_000), ("confirmed", 30_000)]
    dashboard_balance(page, live_server, START + 30_000)


@JS
def test_card_topup_sent_twice_is_one_payment(page_factory, live_server, customer, js):
    page = signed_in(page_factory, js)
    page.goto("/payments/topup")
    fill_topup(page, 20_000)
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    submit = page.locator("#topup-form button[type=submit]")
    if js:
        # hx-disabled-elt: the button is disabled while the first request runs.
        submit.dblclick()
    else:
        submit.click()
    expect(page).to_have_url(PROVIDER_URL)
    provider_url = page.url
    keys = {parse_qs(p.post_data)["idempotency_key"][0] for p in posts if urlsplit(p.url).path == "/payments/topup"}
    assert len(keys) == 1, "a double click sends one form, with one key"

    # The same submission arriving again (a network retry, a resend): the same payment at the same page.
    first = next(p for p in posts if urlsplit(p.url).path == "/payments/topup")
    again = page.request.post(first.url, data=first.post_data,
                              headers={"content-type": first.headers["content-type"]})
    assert again.ok and again.url == provider_url
    assert card_payments(live_server, customer) == [("pending", 20_000)]

    type_card(page, PROVIDER_URL.match(provider_url).group(1), test_mode.SUCCEEDS)
    expect_paid(page, live_server, 20_000, START + 20_000)
    # Back to the provider's page afterwards: it is done there, and paying again is not offered.
    page.goto(provider_url)
    expect(page.locator("main input[name=card_number]")).to_have_count(0)
    page.locator("main a.button").click()  # "return to the shop"
    expect_paid(page, live_server, 20_000, START + 20_000)
    assert balance_of(live_server, customer) == START + 20_000
    assert entries_of(live_server, customer, "card_topup") == [("card_topup", 20_000)]
    assert card_payments(live_server, customer) == [("confirmed", 20_000)]
    dashboard_balance(page, live_server, START + 20_000)


@JS
def test_a_saved_card_tops_up_in_one_tap(page_factory, live_server, customer, js):
    page = signed_in(page_factory, js)

    # "Remember this card": the provider keeps it, the portal keeps its token and last 4 digits.
    pay_by_card(page, 10_000, test_mode.SUCCEEDS, save=True)
    expect_paid(page, live_server, 10_000, START + 10_000)

    # One tap: the saved card, the amount, no provider's page, no card details anywhere.
    page.goto("/payments/topup")
    saved = page.locator("#saved-card-form")
    expect(saved.locator("input[name=saved-card]")).to_have_count(1)
    expect(saved).to_contain_text("4242")
    saved.locator("input[name=saved-amount]").fill(rubles(15_000))
    saved.locator("button[type=submit]").click()
    expect_paid(page, live_server, 15_000, START + 25_000)
    assert entries_of(live_server, customer, "card_topup") == [("card_topup", 10_000), ("card_topup", 15_000)]
    assert card_payments(live_server, customer) == [("confirmed", 10_000), ("confirmed", 15_000)]
    dashboard_balance(page, live_server, START + 25_000)


@JS
def test_the_providers_pages_fit_a_phone(page_factory, live_server, customer, js):
    page = signed_in(page_factory, js)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/payments/topup")
    reference = go_to_provider(page, 5_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    submit = page.locator(f"main form[action='/dev/pay/{reference}'] button[type=submit]")
    assert submit.bounding_box()["height"] >= 44, "touch targets are at least 44 px"
    type_card(page, reference, test_mode.NEEDS_3DS)
    expect(page).to_have_url(THREE_DS_URL)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


# ---- 2. transfers ---------------------------------------------------------------------------

def start_transfer(page, kopecks: int) -> str:
    expect(page).to_have_url(url_path_is("/payments/transfer"))
    form = page.locator("#transfer-form")
    form.locator("input[name=recipient]").fill(OTHER_TYPED)
    form.locator("input[name=amount]").fill(rubles(kopecks))
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(TRANSFER_URL)
    return TRANSFER_URL.match(page.url).group(1)


def expect_transfer_done(page, live_server, token: str, sender_balance: int) -> None:
    expect(page).to_have_url(re.compile(rf"/payments/transfer/{re.escape(token)}$"))
    done = page.locator("main p.flash[role=status]")
    expect(done).to_be_visible()
    expect(done).to_contain_text(money_shown(live_server, sender_balance))
    expect(page.locator("main form input[name=code]")).to_have_count(0)


@JS
def test_transfers_small_at_once_large_with_the_sms_code(page_factory, live_server, customer, recipient, js):
    page = signed_in(page_factory, js)

    # 100 ₽: sent at once.
    page.goto("/payments/transfer")
    token = start_transfer(page, 10_000)
    expect_transfer_done(page, live_server, token, START - 10_000)
    assert balance_of(live_server, customer) == START - 10_000
    assert balance_of(live_server, recipient) == OTHER_START + 10_000
    assert entries_of(live_server, customer, "transfer_out") == [("transfer_out", -10_000)]
    assert entries_of(live_server, recipient, "transfer_in") == [("transfer_in", 10_000)]

    # 1 500 ₽: above the limit a code goes by SMS to the sender, and nothing moves until it is typed.
    page.locator("main a[href='/payments/transfer']").click()  # "another transfer"
    expect(page).to_have_url(url_path_is("/payments/transfer"))
    token = start_transfer(page, 150_000)
    form = page.locator(f"main form[action='/payments/transfer/{token}']")
    expect(form.locator("input[name=code]")).to_be_visible()
    assert balance_of(live_server, customer) == START - 10_000
    code = sent_transfer_code(live_server)

    wrong = "000000" if code != "000000" else "111111"
    form.locator("input[name=code]").fill(wrong)
    form.locator("button[type=submit]").click()
    expect(page.locator("main form input[name=code]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("main form .error[role=alert]")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/payments/transfer/{re.escape(token)}$"))
    assert balance_of(live_server, customer) == START - 10_000

    form = page.locator(f"main form[action='/payments/transfer/{token}']")
    form.locator("input[name=code]").fill(code)
    form.locator("button[type=submit]").click()
    expect_transfer_done(page, live_server, token, START - 160_000)
    assert balance_of(live_server, customer) == START - 160_000
    assert balance_of(live_server, recipient) == OTHER_START + 160_000
    with live_server.app_context() as session:
        assert session.scalar(select(Transfer.status).where(Transfer.token == token)) == "done"
    assert entries_of(live_server, recipient, "transfer_in") == [("transfer_in", 10_000), ("transfer_in", 150_000)]


# ---- 3. prepaid cards -------------------------------------------------------------------------

@JS
def test_prepaid_card_redeemed_once(page_factory, live_server, customer, js):
    with live_server.app_context() as session:
        (card,) = issue_vouchers(session, count=1, amount=50_000, key=live_server.app.config["SECRET_KEY"],
                                 actor=SYSTEM, now=utcnow())
    printed = " ".join(re.findall("....", card.code))  # 1234 5678 9012 3456, as on the card
    page = signed_in(page_factory, js)

    page.locator("header nav a[href='/payments/']").click()
    page.locator("main a[href='/payments/voucher']").click()
    expect(page).to_have_url(url_path_is("/payments/voucher"))
    form = page.locator("#voucher-form")
    form.locator("input[name=code]").fill(printed)
    form.locator("input[name=pin]").fill(card.pin)
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(url_path_is("/"))
    flash = page.locator("main .flash[role=status]")
    expect(flash).to_be_visible()
    expect(flash).to_contain_text(money_shown(live_server, 50_000))
    expect(page.locator("#summary .balance")).to_have_text(money_shown(live_server, START + 50_000))
    assert balance_of(live_server, customer) == START + 50_000
    assert entries_of(live_server, customer, "voucher") == [("voucher", 50_000)]

    # The same card again: refused on the form, nothing credited.
    page.goto("/payments/voucher")
    document = Document(page)
    form = page.locator("#voucher-form")
    form.locator("input[name=code]").fill(printed)
    form.locator("input[name=pin]").fill(card.pin)
    form.locator("button[type=submit]").click()
    code = page.locator("#voucher-form input[name=code]")
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#voucher-form .field:has(input[name=code]) .error[role=alert]")).to_be_visible()
    expect(page.locator("#voucher-form input[name=pin]")).to_have_value("")  # the PIN is not sent back
    expect(page).to_have_url(url_path_is("/payments/voucher"))
    assert document.kept() == js, "JS on: only the form is swapped; JS off: the page is re-rendered"
    assert balance_of(live_server, customer) == START + 50_000
    assert entries_of(live_server, customer, "voucher") == [("voucher", 50_000)]


# ---- 4. the promised payment -------------------------------------------------------------------

@JS
def test_promised_payment_taken_then_repaid_by_a_card_topup(page_factory, live_server, customer, js):
    fee = live_server.app.config["PROMISED_FEE"]
    page = signed_in(page_factory, js)

    page.goto("/payments/promised")
    form = page.locator("main form[action='/payments/promised']")
    form.locator("input[name=amount]").fill("150")
    form.locator("button[type=submit]").click()

    expect(page).to_have_url(url_path_is("/payments/promised"))
    expect(page.locator("main .flash[role=status]")).to_be_visible()
    still_to_repay = page.locator("main .card[role=status]")
    expect(still_to_repay.locator("strong")).to_contain_text(money_shown(live_server, 15_000))
    expect(page.locator("main form[action='/payments/promised']")).to_have_count(0)  # one at a time
    after_promise = START + 15_000 - fee
    assert balance_of(live_server, customer) == after_promise
    assert [kind for kind, _ in entries_of(live_server, customer)][-2:] == ["promised_credit", "service_fee"]

    # Its "top up" button; a card top-up repays it first.
    still_to_repay.locator("a[href='/payments/topup']").click()
    reference = go_to_provider(page, 20_000)
    type_card(page, reference, test_mode.SUCCEEDS)
    expect_paid(page, live_server, 20_000, after_promise + 20_000 - 15_000)
    assert balance_of(live_server, customer) == after_promise + 5_000
    assert entries_of(live_server, customer)[-2:] == [("card_topup", 20_000), ("promised_repay", -15_000)]
    with live_server.app_context() as session:
        assert session.scalar(select(PromisedPayment.status).where(PromisedPayment.account_id == customer)) \
            == "repaid"

    # Repaid: the page offers a new one.
    page.goto("/payments/promised")
    expect(page.locator("main .card[role=status]")).to_have_count(0)
    expect(page.locator("main form[action='/payments/promised'] input[name=amount]")).to_be_visible()


# ---- 5. the report --------------------------------------------------------------------------------

USAGE_ROWS = 35  # with the rest, more than a page of history.PAGE_SIZE
USAGE = 700  # kopecks each


def local_today(live_server) -> date:
    from flask_babel import to_user_timezone

    with live_server.app.test_request_context("/"):
        return to_user_timezone(utcnow()).date()


@pytest.fixture
def a_month_of_payments(live_server, customer, recipient) -> list[tuple[str, int]]:
    """Calls and SMS three days ago, then today the payments of the journeys above, newest last.

    The pages of these payments are driven in the tests above; here the domain functions behind them
    make them, to keep the run short.  Returns the (kind, amount) the report lists first, newest first.
    """
    from portal.domain import payments, promised, transfers, vouchers
    from portal.payment_gateway import provider_from_config

    app = live_server.app
    config = app.config
    day = datetime.combine(local_today(live_server) - timedelta(days=3), datetime.min.time())
    with live_server.app_context() as session:
        account = session.get(Account, customer)
        for i in range(USAGE_ROWS):  # midday in Moscow (09:00 UTC onwards): the same date in either zone
            session.add(LedgerEntry(account_id=customer, amount=-USAGE, kind="usage", description=f"Call {i}",
                                    created_at=day + timedelta(hours=9, minutes=i)))
        account.balance -= USAGE_ROWS * USAGE
        session.commit()

        now = utcnow()
        promised.take_promised_payment(session, account_id=customer, amount=15_000, idempotency_key="e2e-promised-0001",
                                       rules=promised.PromisedRules.from_config(config), actor=SYSTEM, now=now)
        provider = provider_from_config(config, session)
        payment = payments.start_topup(session, provider, account_id=customer, login_id=None, amount=20_000,
                                       save_method=False, idempotency_key="e2e-topup-000001",
                                       limits=payments.TopupLimits(config["TOPUP_MIN"], config["TOPUP_MAX"]),
                                       return_url=lambda token: "/", actor=SYSTEM, now=now)
        test_mode.pay_with_card(session, test_mode.payment_on_page(session, payment.gateway_ref),
                                number=test_mode.SUCCEEDS, expiry=EXPIRY, cvc=CVC, now=now)
        payments.refresh(session, provider, payment_id=payment.id, actor=SYSTEM, now=now)
        (card,) = vouchers.issue_vouchers(session, count=1, amount=50_000, key=config["SECRET_KEY"], actor=SYSTEM,
                                          now=now)
        vouchers.redeem_voucher(session, account_id=customer, code=card.code, pin=card.pin, key=config["SECRET_KEY"],
                                max_failures=5, actor=SYSTEM, now=now)
        transfers.start_transfer(session, from_account_id=customer, to_msisdn=OTHER_MSISDN, amount=10_000,
                                 idempotency_key="e2e-transfer-0001",
                                 rules=transfers.TransferRules.from_config(config), actor=SYSTEM, now=now)
    fee = config["PROMISED_FEE"]
    newest_first = [("transfer_out", -10_000), ("voucher", 50_000), ("promised_repay", -15_000),
                    ("card_topup", 20_000), ("service_fee", -fee), ("promised_credit", 15_000)]
    assert entries_of(live_server, customer)[::-1][:len(newest_first)] == newest_first
    assert len(entries_of(live_server, customer)) == 1 + USAGE_ROWS + len(newest_first)
    return newest_first


def report_rows(page):
    return page.locator("#history-results tbody tr:not(#more-row)")


def expect_row(live_server, row, kind: str, kopecks: int) -> None:
    cells = row.locator("td")
    expect(cells.nth(1)).to_contain_text(label_shown(live_server, kind))
    expect(cells.nth(2)).to_have_text(money_shown(live_server, kopecks))


@JS
def test_history_report_pages_filters_and_downloads(page_factory, live_server, customer, a_month_of_payments, js):
    page_size = history.PAGE_SIZE
    total = 1 + USAGE_ROWS + len(a_month_of_payments)
    page = signed_in(page_factory, js)
    page.locator("header nav a[href='/payments/']").click()
    page.locator("main a[href='/payments/history']").click()
    expect(page).to_have_url(url_path_is("/payments/history"))

    # The newest first: the payments, then the calls; income and expenses of the period.
    rows = report_rows(page)
    expect(rows).to_have_count(page_size)
    for i, (kind, kopecks) in enumerate(a_month_of_payments):
        expect_row(live_server, rows.nth(i), kind, kopecks)
    expect_row(live_server, rows.nth(len(a_month_of_payments)), "usage", -USAGE)
    income = START + 15_000 + 20_000 + 50_000
    expenses = USAGE_ROWS * USAGE + live_server.app.config["PROMISED_FEE"] + 15_000 + 10_000
    totals = page.locator("#history-results .totals")
    expect(totals).to_contain_text(money_shown(live_server, income))
    expect(totals).to_contain_text(money_shown(live_server, expenses))

    # The spending chart: server-drawn SVG, the calls as one bar segment with its amount.
    chart = page.locator("main figure.chart svg[role=img]")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.seg-usage")).to_have_count(1)
    expect(chart.locator("rect.seg-usage title")).to_contain_text(money_shown(live_server, USAGE_ROWS * USAGE))
    expect(chart.locator("rect.seg-other")).not_to_have_count(0)  # transfer and repayment this month

    # The CSV of the same period: every entry, amounts in roubles.
    with page.expect_download() as download:
        page.locator("#history-results a[href^='/payments/history.csv']").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == 'Time (UTC),Kind code,Kind,Description,"Amount, ₽"'
    assert len(lines) == 1 + total
    assert [line.split(",")[1] for line in lines[1:len(a_month_of_payments) + 1]] == \
        [kind for kind, _ in a_month_of_payments]
    assert lines[4].endswith(",card_topup,Card top-up,Card *4242,200.00"), lines[4]

    # "More": with JS the next rows are appended in place; without, a page of the older ones.
    url = page.url
    document = Document(page)
    more = page.locator("#history-results #more-row a")
    expect(more).to_have_attribute("href", re.compile(r"[?&]before=\d+"))
    more.click()
    if js:
        expect(rows).to_have_count(total)
        expect(page.locator("#more-row")).to_have_count(0)
        assert page.url == url, "the rows are appended, the address stays"
        assert document.kept()
        for i in range(len(a_month_of_payments)):
            expect_row(live_server, rows.nth(i), *a_month_of_payments[i])
    else:
        expect(page).to_have_url(re.compile(r"/payments/history\?(.*&)?before=\d+"))
        expect(rows).to_have_count(total - page_size)
        expect(page.locator("#more-row")).to_have_count(0)
        expect(page.locator("#history-results a[href^='/payments/history']")).to_be_visible()  # back to the newest
        assert not document.kept()
    expect_row(live_server, rows.last, "adjustment", START)

    # The filter: one kind.
    document = Document(page)
    filters = page.locator("main form.filters[action='/payments/history']")
    filters.locator("select[name=kind]").select_option("card_topup")
    filters.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/payments/history\?(.*&)?kind=card_topup"))
    expect(rows).to_have_count(1)
    expect_row(live_server, rows.first, "card_topup", 20_000)
    expect(totals).to_contain_text(money_shown(live_server, 20_000))
    assert document.kept() == js, "JS on: only #history-results is swapped"

    # The filter: a period, the day of the calls only; "More" keeps it.
    day = (local_today(live_server) - timedelta(days=3)).isoformat()
    filters.locator("select[name=kind]").select_option("")
    filters.locator("input[name=start]").fill(day)
    filters.locator("input[name=end]").fill(day)
    filters.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/payments/history\?(.*&)?start={day}"))
    expect(rows).to_have_count(page_size)
    for i in range(page_size):
        expect_row(live_server, rows.nth(i), "usage", -USAGE)
    expect(totals).to_contain_text(money_shown(live_server, USAGE_ROWS * USAGE))
    expect(page.locator("#more-row a")).to_have_attribute("href", re.compile(rf"start={day}&end={day}"))
    page.locator("#more-row a").click()
    expect(rows).to_have_count(USAGE_ROWS if js else USAGE_ROWS - page_size)
    expect(page.locator("#more-row")).to_have_count(0)


def test_history_period_is_the_customers_day(page_factory, live_server, customer):
    """An entry at 01:30 Moscow time is in the report of that day, the date its row shows.

    The period is the server's arithmetic, the same with or without JavaScript: one run, without.
    """
    from zoneinfo import ZoneInfo

    from portal.formatting import datetime_short

    day = local_today(live_server) - timedelta(days=2)
    moscow = ZoneInfo(live_server.app.config["BABEL_DEFAULT_TIMEZONE"])
    at = datetime.combine(day, datetime.min.time().replace(hour=1, minute=30), moscow)
    created_at = at.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)  # the day before, 22:30 UTC
    with live_server.app_context() as session:
        session.add(LedgerEntry(account_id=customer, amount=-USAGE, kind="usage", created_at=created_at))
        session.get(Account, customer).balance -= USAGE
        session.commit()
    with live_server.app.test_request_context("/"):
        shown = datetime_short(created_at)

    page = signed_in(page_factory, False)
    page.goto("/payments/history")
    expect(report_rows(page).first.locator("td").first).to_have_text(shown)  # in the customer's time zone
    page.goto(f"/payments/history?start={day}&end={day}")
    expect(page.locator("#history-results")).to_be_visible()
    rows = report_rows(page)
    expect(rows).to_have_count(1)
    expect_row(live_server, rows.first, "usage", -USAGE)
