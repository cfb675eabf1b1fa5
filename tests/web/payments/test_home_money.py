"""Money for a home contract works as for a line: the same pages, the same ledger (issue 8, point 6)."""
import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from portal.domain import ledger, vouchers
from portal.domain.audit import SYSTEM
from portal.domain.billing import AutopaySettings, run_billing
from portal.models import Account, AutoPayment, CardToken, LedgerEntry, Login, utcnow
from portal.payment_gateway.dev import SUCCEEDS, DevProvider
from tests import factories
from tests.conftest import SECRET
from tests.helpers import saved_dev_card
from tests.web.payments.test_topup import pay

CONTRACT = "HC-100200"


@pytest.fixture
def contract(db_session):
    account = factories.make_home_contract(db_session, CONTRACT, balance=5000)
    factories.make_login(db_session, account)
    db_session.commit()
    return account


@pytest.fixture
def signed_in(client, contract):
    assert client.post_form("/auth/login", {"phone": CONTRACT, "password": factories.PASSWORD}).status_code == 303
    return client


def balance(db_session, account):
    db_session.expire_all()
    return db_session.get(Account, account.id).balance


@pytest.mark.parametrize("url", ["/payments/topup", "/payments/history", "/payments/voucher", "/payments/promised",
                                 "/payments/auto", "/archive"])
def test_the_money_pages_open_for_a_home_contract(signed_in, url):
    page = signed_in.get(url)
    assert page.status_code == 200


def test_a_card_top_up_and_a_prepaid_card_credit_the_contract(signed_in, db_session, contract):
    response, _ = pay(signed_in, SUCCEEDS, "500")
    assert response.status_code == 303 and balance(db_session, contract) == 5000 + 50000
    card = vouchers.issue_vouchers(db_session, count=1, amount=30000, key=SECRET, actor=SYSTEM, now=utcnow())[0]
    assert signed_in.post_form("/payments/voucher", {"code": card.code, "pin": card.pin}).status_code == 303
    assert balance(db_session, contract) == 5000 + 50000 + 30000
    kinds = db_session.scalars(select(LedgerEntry.kind).where(LedgerEntry.account_id == contract.id)
                               .order_by(LedgerEntry.id)).all()
    assert kinds[-2:] == ["card_topup", "voucher"] and ledger.verify(db_session) == []
    assert "500.00" in signed_in.get("/payments/history").text


def test_an_auto_payment_tops_the_contract_up_in_the_billing_run(signed_in, db_session, contract, app):
    login_id = db_session.scalar(select(Login.id).where(Login.primary_account_id == contract.id))
    saved_dev_card(db_session, login_id, token="dev_tok_good", last4="4242")
    token = db_session.scalar(select(CardToken.id))
    response = signed_in.post_form("/payments/auto", {"kind": "threshold", "threshold": "100", "amount": "300",
                                                      "card": token})
    assert response.status_code == 303 and db_session.scalar(select(AutoPayment.account_id)) == contract.id
    report = run_billing(db_session, day=date(2026, 12, 10), now=datetime(2026, 12, 10, 0, 5),
                         autopay=AutopaySettings(DevProvider, 3, "TestTel", "en"))
    assert report.autopaid == 1 and balance(db_session, contract) == 5000 + 30000


def test_a_home_contract_sends_no_money_and_says_so(signed_in, db_session, contract):
    """No line to send the code to, no line to name as the sender: a clear refusal, never a 500."""
    factories.make_line(db_session, "+79031112233", balance=0)
    db_session.commit()
    page = signed_in.get("/payments/transfer")
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page.text).group(1)
    response = signed_in.post_form("/payments/transfer", {"idempotency_key": key, "recipient": "+79031112233",
                                                          "amount": "10"})
    assert response.status_code == 422 and "Money is sent from a mobile number" in response.text
    assert balance(db_session, contract) == 5000
