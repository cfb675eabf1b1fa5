"""Receipts and operation codes on the customer's pages: the receipt page and its PDF (from the status page and
the history), "find an operation by its code" (own numbers only, rate-limited), the code in the SMS and the
flash; the staff search by code."""
import re

import pytest
from sqlalchemy import select

from portal.domain.audit import SYSTEM
from portal.domain.receipts import codes
from portal.domain.vouchers import issue_vouchers
from portal.models import CardPayment, LedgerEntry, SmsMessage, utcnow
from tests import factories
from tests.conftest import SECRET
from tests.helpers import key_of, top_up
from tests.web.admin.test_admin import staff_sign_in

HX = {"HX-Request": "true"}


@pytest.fixture
def account(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=50_000)
    factories.make_login(db_session, account)
    db_session.commit()
    return account


@pytest.fixture
def stranger(db_session):
    """Another customer's number, with an operation of its own."""
    account = factories.make_line(db_session, "+79035556677", balance=10_000)
    db_session.add(LedgerEntry(account_id=account.id, amount=5_000, kind="card_topup", code="STRANGE2",
                               description="Card *1111", created_at=utcnow()))
    db_session.commit()
    return account


@pytest.fixture
def signed_in(client, account):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    return client


def paid(signed_in, db_session, amount="250"):
    """A confirmed card top-up through the development provider's page: its status URL, payment and code."""
    response, _ = top_up(signed_in, amount=amount)
    db_session.expire_all()
    payment = db_session.scalars(select(CardPayment).order_by(CardPayment.id.desc())).first()
    assert payment.status == "confirmed", response.text
    code = db_session.scalar(select(LedgerEntry.code).where(LedgerEntry.idempotency_key == f"card:{payment.id}"))
    return response.location, payment, code


# ---- the receipt ------------------------------------------------------------------------------------------------

def test_the_status_page_links_the_receipt_with_every_detail(signed_in, db_session):
    status_url, payment, code = paid(signed_in, db_session)
    status = signed_in.get(status_url).text
    assert f'href="/payments/receipts/{code}"' in status and codes.grouped(code) in status
    page = signed_in.get(f"/payments/receipts/{code}")
    assert page.status_code == 200
    text = page.text
    assert f"<h1>Receipt {codes.grouped(code)}</h1>" in text
    for shown in ("₽250.00", "bank card *4242", payment.gateway_ref, "+7 916 123-45-67", "top-up of the balance",
                  "Card top-up", "(UTC+03:00)"):
        assert shown in text, shown
    assert f'href="/payments/receipts/{code}.pdf"' in text


def test_the_pdf_is_the_receipt_to_download(signed_in, db_session):
    _, _, code = paid(signed_in, db_session)
    response = signed_in.get(f"/payments/receipts/{code}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename=receipt-{code}.pdf"
    assert response.data.startswith(b"%PDF") and codes.grouped(code).encode() in response.data


def test_the_receipt_is_found_however_the_code_is_written(signed_in, db_session):
    _, _, code = paid(signed_in, db_session)
    assert signed_in.get(f"/payments/receipts/{codes.grouped(code).lower()}").status_code == 200


def test_another_customers_receipt_is_not_found(signed_in, stranger):
    for url in ("/payments/receipts/STRANGE2", "/payments/receipts/STRANGE2.pdf", "/payments/receipts/nonsense"):
        assert signed_in.get(url).status_code == 404, url


def test_a_receipt_needs_a_sign_in(client, stranger):
    response = client.get("/payments/receipts/STRANGE2")
    assert response.status_code in (302, 303) and "/auth/login" in response.location


def test_a_linked_numbers_receipt_is_shown_to_the_login_that_manages_it(signed_in, db_session, account, stranger):
    from portal.models import Login, LoginAccount

    login = db_session.scalar(select(Login).where(Login.primary_account_id == account.id))
    db_session.add(LoginAccount(login_id=login.id, account_id=stranger.id))
    db_session.commit()
    page = signed_in.get("/payments/receipts/STRANGE2")
    assert page.status_code == 200 and "+7 903 555-66-77" in page.text


def test_history_rows_link_their_receipts(signed_in, db_session):
    _, _, code = paid(signed_in, db_session)
    page = signed_in.get("/payments/history").text
    assert f'href="/payments/receipts/{code}"' in page
    assert 'id="find-operation"' in page


def test_the_top_up_sms_carries_the_code(signed_in, db_session):
    _, _, code = paid(signed_in, db_session, amount="100")
    texts = db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "alert")).all()
    assert texts == [f"TestTel: ₽100.00 received, the balance is ₽600.00. Operation {codes.grouped(code)}."]


def test_a_transfer_has_a_receipt_for_each_side(signed_in, db_session, account, stranger):
    page = signed_in.get("/payments/transfer")
    response = signed_in.post_form("/payments/transfer", {"recipient": "8 903 555-66-77", "amount": "100",
                                                          "idempotency_key": key_of(page.text)})
    status = signed_in.get(response.location).text
    out = db_session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "transfer_out"))
    got = db_session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "transfer_in"))
    assert f'href="/payments/receipts/{out.code}"' in status
    receipt = signed_in.get(f"/payments/receipts/{out.code}").text
    assert "Transfer sent" in receipt and "+7 903 555-66-77" in receipt
    assert signed_in.get(f"/payments/receipts/{got.code}").status_code == 404  # the recipient's, not ours
    texts = db_session.scalars(select(SmsMessage.text).where(SmsMessage.to == "+79035556677")).all()
    assert any(codes.grouped(got.code) in text for text in texts)


def test_a_prepaid_card_says_its_code_after_the_redirect(signed_in, db_session):
    issued = issue_vouchers(db_session, count=1, amount=30_000, key=SECRET, actor=SYSTEM, now=utcnow())[0]
    response = signed_in.post_form("/payments/voucher", {"code": issued.code, "pin": issued.pin})
    code = db_session.scalar(select(LedgerEntry.code).where(LedgerEntry.kind == "voucher"))
    assert response.status_code == 303
    assert f"Operation {codes.grouped(code)}." in signed_in.get(response.location).text


def test_a_promised_payment_links_its_receipt(signed_in, db_session):
    page = signed_in.get("/payments/promised")
    response = signed_in.post_form("/payments/promised", {"amount": "100", "idempotency_key": key_of(page.text)})
    code = db_session.scalar(select(LedgerEntry.code).where(LedgerEntry.kind == "promised_credit"))
    after = signed_in.get(response.location).text
    assert f"Operation {codes.grouped(code)}." in after and f'href="/payments/receipts/{code}"' in after
    assert "Repay by" in signed_in.get(f"/payments/receipts/{code}").text


def test_the_receipt_and_the_finder_run_few_queries(signed_in, db_session, count_queries):
    _, _, code = paid(signed_in, db_session)
    for url in (f"/payments/receipts/{code}", f"/payments/find?code={code}", "/payments/history"):
        with count_queries() as statements:
            assert signed_in.get(url).status_code == 200
        assert len(statements) <= 10, (url, statements)


# ---- find by code -------------------------------------------------------------------------------------------------

def test_the_payments_page_has_the_find_form_that_works_without_js(signed_in):
    page = signed_in.get("/payments/").text
    assert re.search(r'<form method="get" action="/payments/find"', page) and 'name="code"' in page


@pytest.mark.parametrize("typed", ["{grouped}", "{lower}", " {spaced} "])
def test_an_operation_is_found_by_its_code_typed_any_way(signed_in, db_session, typed):
    _, _, code = paid(signed_in, db_session)
    grouped = codes.grouped(code)
    query = typed.format(grouped=grouped, lower=code.lower(), spaced=f"{code[:4]} {code[4:]}")
    response = signed_in.get("/payments/find", query_string={"code": query})
    assert response.status_code == 200
    assert f'href="/payments/receipts/{code}"' in response.text and "₽250.00" in response.text


def test_a_code_nobody_has_is_not_found(signed_in):
    response = signed_in.get("/payments/find", query_string={"code": "ABCD-EFGH"})
    assert response.status_code == 422 and "No operation with this code on your numbers." in response.text
    assert 'aria-invalid="true"' in response.text


def test_another_customers_code_is_answered_like_nobodys(signed_in, stranger):
    response = signed_in.get("/payments/find", query_string={"code": "strange2"})
    assert response.status_code == 422 and "No operation with this code on your numbers." in response.text
    assert "/payments/receipts/STRANGE2" not in response.text


def test_text_that_is_no_code_is_explained_next_to_the_field(signed_in):
    response = signed_in.get("/payments/find", query_string={"code": "12"})
    assert response.status_code == 422 and "8 letters and digits" in response.text
    empty = signed_in.get("/payments/find", query_string={"code": ""})
    assert empty.status_code == 422 and "Enter the code." in empty.text


def test_with_htmx_only_the_finder_is_answered(signed_in, db_session):
    _, _, code = paid(signed_in, db_session)
    fragment = signed_in.get("/payments/find", query_string={"code": code}, headers=HX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<section id="find-operation"')
    assert "HX-Request" in fragment.headers["Vary"]
    whole = signed_in.get("/payments/find", query_string={"code": code})
    assert "<html" in whole.text


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_OPERATION_LOOKUP": "3 per 10 minutes"}])
def test_the_lookup_is_rate_limited(signed_in):
    assert signed_in.get("/payments/find").status_code == 200  # the empty form costs nothing
    answers = [signed_in.get("/payments/find", query_string={"code": "ABCD-EFGH"}).status_code for _ in range(4)]
    assert answers == [422, 422, 422, 429]


# ---- staff --------------------------------------------------------------------------------------------------------

def test_staff_find_an_operation_by_its_code(client, db_session, stranger):
    factories.make_staff(db_session)
    staff_sign_in(client)
    page = client.get("/admin/", query_string={"q": "strange-2"}).text
    assert 'id="operation"' in page and "STRA-NGE2" in page
    assert f'href="/admin/customers/{stranger.customer_id}#account-{stranger.id}"' in page
    card = client.get(f"/admin/customers/{stranger.customer_id}").text
    assert "STRA-NGE2" in card
