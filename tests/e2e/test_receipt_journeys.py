"""Receipts and operation codes in a real browser, with JavaScript on and off (README "Receipts and operation
codes").

A card top-up through the development provider's page, then its receipt from the status page and the receipt's PDF;
the code from the SMS typed into "find an operation by its code" (any case, no dash) finds it, another customer's
code does not. Elements are found by name, id or href, never by visible text.
"""
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain.receipts import codes
from portal.models import CardPayment, LedgerEntry, SmsMessage, utcnow
from portal.payment_gateway import dev as test_mode
from tests import factories
from tests.e2e.test_payments_journeys import (  # noqa: F401 - fixtures
    JS,
    MSISDN,
    START,
    customer,
    expect_paid,
    pay_by_card,
    signed_in,
)
from tests.e2e.test_sms_login_journey import money_shown, url_path_is


def confirmed_code(live_server, account_id: int) -> str:
    """The code of the account's confirmed card payment, and the payment's provider id."""
    with live_server.app_context() as session:
        payment = session.scalars(select(CardPayment).where(CardPayment.account_id == account_id,
                                                            CardPayment.status == "confirmed")).one()
        code = session.scalar(select(LedgerEntry.code).where(LedgerEntry.idempotency_key == f"card:{payment.id}"))
        return code, payment.gateway_ref


def sms_code(live_server) -> str:
    """The operation code the payment's SMS gave, as it reads there (K7QM-4XPD)."""
    with live_server.app_context() as session:
        texts = session.scalars(select(SmsMessage.text).where(SmsMessage.to == MSISDN)).all()
    found = [word.rstrip(".") for text in texts for word in text.split() if codes.normalise(word.rstrip("."))]
    assert found, texts
    return found[-1]


@JS
def test_a_top_up_has_a_receipt_and_its_pdf(page_factory, live_server, customer, js):  # noqa: F811
    page = signed_in(page_factory, js)
    pay_by_card(page, 25_000, test_mode.SUCCEEDS)
    expect_paid(page, live_server, 25_000, START + 25_000)
    code, reference = confirmed_code(live_server, customer)
    assert sms_code(live_server) == codes.grouped(code)

    # From the status page to the receipt.
    page.locator(f"main a[href='/payments/receipts/{code}']").click()
    expect(page).to_have_url(url_path_is(f"/payments/receipts/{code}"))
    expect(page.locator("main h1")).to_contain_text(codes.grouped(code))
    receipt = page.locator("main dl.receipt")
    for shown in (codes.grouped(code), money_shown(live_server, 25_000), "*4242", reference, "903 111-22-33"):
        expect(receipt).to_contain_text(shown)

    # The same receipt as a PDF, downloaded.
    with page.expect_download() as download:
        page.locator(f"main a[href='/payments/receipts/{code}.pdf']").click()
    assert download.value.suggested_filename == f"receipt-{code}.pdf"
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and codes.grouped(code).encode() in pdf

    # Back to the history: the row links the same receipt.
    page.goto("/payments/history")
    expect(page.locator(f"#history-results a[href='/payments/receipts/{code}']")).to_have_count(1)


@JS
def test_an_operation_is_found_by_its_code_and_only_ones_own(page_factory, live_server, customer, js):  # noqa: F811
    with live_server.app_context() as session:
        other = factories.make_line(session, "+79035556677", balance=0)
        session.add(LedgerEntry(account_id=other.id, amount=10_000, kind="voucher", code="THE2RS33",
                                description="Prepaid card", created_at=utcnow()))
        session.commit()
    theirs = "THE2RS33"
    page = signed_in(page_factory, js)
    pay_by_card(page, 10_000, test_mode.SUCCEEDS)
    code, _ = confirmed_code(live_server, customer)

    page.goto("/payments/")
    finder = page.locator("#find-operation")
    # Typed the way people do: small letters, no dash.
    finder.locator("input[name=code]").fill(code.lower())
    finder.locator("button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/payments/find"))
    finder = page.locator("#find-operation")
    expect(finder.locator(".found")).to_contain_text(money_shown(live_server, 10_000))
    expect(finder.locator("input[name=code]")).not_to_have_attribute("aria-invalid", "true")
    finder.locator(f"a[href='/payments/receipts/{code}']").click()
    expect(page).to_have_url(url_path_is(f"/payments/receipts/{code}"))

    # Another customer's code: not found, said next to the field, and nothing of theirs is shown.
    page.goto("/payments/history")
    finder = page.locator("#find-operation")
    finder.locator("input[name=code]").fill(theirs)
    finder.locator("button[type=submit]").click()
    finder = page.locator("#find-operation")
    expect(finder.locator("input[name=code]")).to_have_attribute("aria-invalid", "true")
    expect(finder.locator(".error[role=alert]")).to_be_visible()
    expect(finder.locator(".found")).to_have_count(0)
    expect(page.locator(f"a[href='/payments/receipts/{theirs}']")).to_have_count(0)
    if js:  # swapped in place, and the address says what was asked, for a reload or the back button
        expect(page).to_have_url(url_path_is("/payments/find"))
