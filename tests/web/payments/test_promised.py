import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain import ledger, vouchers
from portal.domain.audit import SYSTEM
from portal.models import Account, LedgerEntry, PromisedPayment, SmsMessage, utcnow
from tests import factories
from tests.conftest import SECRET
from tests.helpers import key_of, top_up


@pytest.fixture


def account(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=0)
    factories.make_login(db_session, account)
    db_session.commit()
    return account


@pytest.fixture


def signed_in(client, account):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    return client



def take(client, amount="150"):
    page = client.get("/payments/promised")
    data = {"idempotency_key": key_of(page.text), "amount": amount}
    return client.post_form("/payments/promised", data), data


def balance(db_session, account):
    db_session.expire_all()
    return db_session.get(Account, account.id).balance


def test_a_new_customer_gets_a_small_promise_with_a_fee_due_in_3_days(signed_in, db_session, account):
    page = signed_in.get("/payments/promised").text
    assert "Up to ₽200." in page and "25.00" in page and "3 days" in page
    response, _ = take(signed_in)
    assert response.status_code == 303
    promise = db_session.scalars(select(PromisedPayment)).one()
    assert promise.amount == 15000 and promise.status == "open"
    assert timedelta(days=2, hours=23) < promise.due_at - promise.created_at <= timedelta(days=3)
    assert balance(db_session, account) == 15000 - 2500 and ledger.verify(db_session) == []
    page = signed_in.get("/payments/promised").text
    assert "Still to repay" in page and "150.00" in page


def test_the_limit_grows_with_what_was_paid_in(signed_in, db_session, account):
    db_session.add(LedgerEntry(account_id=account.id, amount=120000, kind="card_topup",
                               created_at=utcnow() - timedelta(days=10)))
    account.balance += 120000
    db_session.commit()
    assert "Up to ₽1,000." in signed_in.get("/payments/promised").text
    assert take(signed_in, amount="1000")[0].status_code == 303


def test_more_than_the_limit_is_refused(signed_in, db_session, account):
    response, _ = take(signed_in, amount="200.01")
    assert response.status_code == 422 and "up to ₽200." in response.text
    assert "More than ₽25" in take(signed_in, amount="25")[0].text


def test_only_one_open_promise(signed_in, db_session, account):
    take(signed_in)
    assert 'name="amount"' not in signed_in.get("/payments/promised").text
    response = take_without_form(signed_in)
    assert response.status_code == 422 and "Repay the current promised payment first" in response.text
    assert len(db_session.scalars(select(PromisedPayment)).all()) == 1


def test_a_double_submit_credits_once(signed_in, db_session, account):
    _, data = take(signed_in)
    signed_in.post_form("/payments/promised", data)
    assert len(db_session.scalars(select(PromisedPayment)).all()) == 1
    assert balance(db_session, account) == 12500


@pytest.mark.parametrize("status, balance_now, message", [
    ("blocked_lost", 0, "active number only"),
    ("active", -30001, "too far below zero"),
])


def test_not_available(signed_in, db_session, account, status, balance_now, message):
    account.status, account.balance = status, balance_now
    db_session.commit()
    assert message in signed_in.get("/payments/promised").text
    assert take_without_form(signed_in).status_code == 422


def take_without_form(client):
    return client.post_form("/payments/promised", {"idempotency_key": "k" * 24, "amount": "100"})


def test_the_next_top_up_repays_it(signed_in, db_session, account):
    take(signed_in)
    top_up(signed_in, amount="100")
    promise = db_session.scalars(select(PromisedPayment)).one()
    assert promise.repaid == 10000 and promise.status == "open"
    issued = vouchers.issue_vouchers(db_session, count=1, amount=50000, key=SECRET, actor=SYSTEM, now=utcnow())[0]
    signed_in.post_form("/payments/voucher", {"code": issued.code, "pin": issued.pin})
    db_session.expire_all()
    promise = db_session.scalars(select(PromisedPayment)).one()
    assert promise.status == "repaid" and promise.repaid == 15000
    # 150 credited − 25 fee + 100 card + 500 voucher − 150 repaid
    assert balance(db_session, account) == 57500 and ledger.verify(db_session) == []


def test_the_promised_credit_cannot_be_sent_away(signed_in, db_session, account):
    """Issue 14.10: take a promise on a new line, send the whole balance away, drop the SIM."""
    recipient = factories.make_line(db_session, "+79031112233", balance=0)
    db_session.commit()
    take(signed_in, "150")
    assert balance(db_session, account) == 15000 - 2500
    page = signed_in.get("/payments/transfer")
    response = signed_in.post_form("/payments/transfer", {"idempotency_key": key_of(page.text),
                                                          "recipient": "+79031112233", "amount": "125"})
    assert response.status_code == 422
    assert "you can send at most ₽0.00" in response.text
    assert balance(db_session, account) == 12500 and balance(db_session, recipient) == 0


def test_money_above_the_promise_can_be_sent(signed_in, db_session, account):
    factories.make_line(db_session, "+79031112233", balance=0)
    db_session.commit()
    take(signed_in, "150")
    ledger.post(db_session, db_session.get(Account, account.id), amount=20000, kind="adjustment", key="gift",
                description="gift", now=utcnow())
    db_session.commit()  # 325 roubles on the balance, 150 of them still owed to the promise
    page = signed_in.get("/payments/transfer")
    too_much = signed_in.post_form("/payments/transfer", {"idempotency_key": key_of(page.text),
                                                          "recipient": "+79031112233", "amount": "176"})
    assert too_much.status_code == 422 and "at most ₽175.00" in too_much.text
    page = signed_in.get("/payments/transfer")
    fits = signed_in.post_form("/payments/transfer", {"idempotency_key": key_of(page.text),
                                                      "recipient": "+79031112233", "amount": "175"})
    assert fits.status_code == 303 and balance(db_session, account) == 15000


def test_points_stay_while_the_line_lives_on_the_promise(signed_in, db_session, account):
    from portal.models import BonusAccount

    factories.make_line(db_session, "+79031112233", balance=0)
    db_session.add(BonusAccount(account_id=account.id, points=500))
    db_session.commit()
    take(signed_in, "150")
    page = signed_in.get("/payments/bonus").text
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    response = signed_in.post_form("/payments/bonus", {"idempotency_key": key, "recipient": "+79031112233",
                                                       "points": "100"})
    assert response.status_code == 422 and "top up ₽25.00" in response.text
    db_session.expire_all()
    assert db_session.get(BonusAccount, account.id).points == 500


def test_a_top_up_that_repays_a_promise_says_so_with_the_true_balance(signed_in, db_session, account):
    take(signed_in)  # 150 credited, 25 fee: 125 on the balance, 150 to repay
    response, _ = top_up(signed_in, amount="500")
    result = signed_in.get(response.location).text
    assert "150.00" in result and "repaid your promised payment" in result and "475.00" in result
    texts = db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "alert")).all()
    code = db_session.scalar(select(LedgerEntry.code).where(LedgerEntry.kind == "card_topup"))
    assert texts == ["TestTel: ₽500.00 received, ₽150.00 of them repaid the promised payment; "
                     f"the balance is ₽475.00. Operation {code[:4]}-{code[4:]}."]
    assert balance(db_session, account) == 47500


def test_a_prepaid_card_that_repays_a_promise_alerts_the_true_balance(signed_in, db_session, account):
    take(signed_in)
    issued = vouchers.issue_vouchers(db_session, count=1, amount=50000, key=SECRET, actor=SYSTEM, now=utcnow())[0]
    signed_in.post_form("/payments/voucher", {"code": issued.code, "pin": issued.pin})
    texts = db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "alert")).all()
    code = db_session.scalar(select(LedgerEntry.code).where(LedgerEntry.kind == "voucher"))
    assert texts == ["TestTel: ₽500.00 received, ₽150.00 of them repaid the promised payment; "
                     f"the balance is ₽475.00. Operation {code[:4]}-{code[4:]}."]
