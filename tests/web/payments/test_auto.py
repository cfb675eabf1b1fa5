from datetime import date, datetime

import pytest
from sqlalchemy import select

from portal.domain import ledger
from portal.domain.billing import AutopaySettings, run_billing
from portal.models import Account, AutoPayment, CardToken, SmsMessage
from portal.payment_gateway.dev import DevProvider
from tests import factories
from tests.helpers import saved_dev_card

DAY = date(2026, 12, 10)
NOW = datetime(2026, 12, 10, 0, 5)


@pytest.fixture
def account(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=5000)
    login = factories.make_login(db_session, account)
    saved_dev_card(db_session, login.id, token="dev_tok_good", last4="4242")
    saved_dev_card(db_session, login.id, token="dev_tok_fails", last4="0341", fails_later=True)
    return account


@pytest.fixture
def signed_in(client, account):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    return client


def card_id(db_session, last4):
    return db_session.scalar(select(CardToken.id).where(CardToken.last4 == last4))


def settings(app):
    return AutopaySettings(DevProvider, 3, "TestTel", "en")


def test_a_threshold_rule_tops_up_when_the_balance_is_low(signed_in, db_session, account, app):
    response = signed_in.post_form("/payments/auto", {"kind": "threshold", "threshold": "100", "amount": "300",
                                                      "card": card_id(db_session, "4242")})
    assert response.status_code == 303
    page = signed_in.get("/payments/auto").text
    assert "When the balance is below" in page and "4242" in page
    report = run_billing(db_session, day=DAY, now=NOW, autopay=settings(app))
    assert report.autopaid == 1
    db_session.expire_all()
    assert db_session.get(Account, account.id).balance == 5000 + 30000 and ledger.verify(db_session) == []
    # The same day again: nothing more.
    assert run_billing(db_session, day=DAY, now=NOW, autopay=settings(app)).autopaid == 0


def test_a_monthly_rule_runs_on_its_day(signed_in, db_session, account, app):
    signed_in.post_form("/payments/auto", {"kind": "monthly", "day": "10", "amount": "200",
                                           "card": card_id(db_session, "4242")})
    assert run_billing(db_session, day=date(2026, 12, 9), now=NOW, autopay=settings(app)).autopaid == 0
    assert run_billing(db_session, day=DAY, now=NOW, autopay=settings(app)).autopaid == 1


def test_failures_notify_and_turn_the_rule_off_after_three(signed_in, db_session, account, app):
    signed_in.post_form("/payments/auto", {"kind": "threshold", "threshold": "100", "amount": "300",
                                           "card": card_id(db_session, "0341")})
    for n in range(4):
        run_billing(db_session, day=date(2026, 12, 10 + n), now=NOW, autopay=settings(app))
    rule = db_session.scalars(select(AutoPayment)).one()
    assert rule.enabled is False and rule.failures == 3
    texts = [m.text for m in db_session.scalars(select(SmsMessage).order_by(SmsMessage.id))]
    assert len(texts) == 3 and "try again tomorrow" in texts[0] and "turned off" in texts[-1]
    db_session.expire_all()
    assert db_session.get(Account, account.id).balance == 5000


def test_turn_off_on_and_delete(signed_in, db_session, account):
    signed_in.post_form("/payments/auto", {"kind": "monthly", "day": "5", "amount": "200",
                                           "card": card_id(db_session, "4242")})
    rule_id = db_session.scalar(select(AutoPayment.id))
    assert signed_in.post_form(f"/payments/auto/{rule_id}", {"action": "off"}).status_code == 303
    db_session.expire_all()
    assert db_session.get(AutoPayment, rule_id).enabled is False
    signed_in.post_form(f"/payments/auto/{rule_id}", {"action": "on"})
    db_session.expire_all()
    assert db_session.get(AutoPayment, rule_id).enabled is True
    signed_in.post_form(f"/payments/auto/{rule_id}", {"action": "delete"})
    assert db_session.get(AutoPayment, rule_id) is None


@pytest.mark.parametrize("data, message", [
    ({"kind": "threshold", "threshold": "", "amount": "300"}, "Enter an amount"),
    ({"kind": "monthly", "day": "31", "amount": "300"}, "From 1 to 28"),
    ({"kind": "monthly", "day": "5", "amount": "50"}, "From ₽100 to ₽15,000"),
    ({"kind": "weekly", "amount": "300"}, "Not a valid choice"),
])
def test_bad_rules_get_a_message(signed_in, db_session, account, data, message):
    response = signed_in.post_form("/payments/auto", {**data, "card": card_id(db_session, "4242")})
    assert response.status_code == 422 and message in response.text
    assert db_session.scalars(select(AutoPayment)).first() is None


def test_another_logins_card_or_rule_is_refused(signed_in, db_session, account, app):
    other = factories.make_line(db_session, "+79031112233")
    other_login = factories.make_login(db_session, other)
    foreign = CardToken(login_id=other_login.id, gateway_token="tok_other", last4="9999", expiry="")
    db_session.add(foreign)
    db_session.commit()
    response = signed_in.post_form("/payments/auto", {"kind": "monthly", "day": "5", "amount": "200",
                                                      "card": foreign.id})
    assert response.status_code == 422
    rule = AutoPayment(account_id=other.id, login_id=other_login.id, card_token_id=foreign.id, kind="monthly",
                       day=5, amount=20000)
    db_session.add(rule)
    db_session.commit()
    assert signed_in.post_form(f"/payments/auto/{rule.id}", {"action": "delete"}).status_code == 404


def test_without_a_saved_card_the_page_explains(client, db_session):
    factories.ensure_login(db_session, "+79262223344")
    client.post_form("/auth/login", {"phone": "+79262223344", "password": factories.PASSWORD})
    assert "No saved card yet" in client.get("/payments/auto").text


def test_a_charge_the_provider_did_not_answer_is_neither_done_nor_failed_and_reconciliation_settles_it(
        signed_in, db_session, account, app, monkeypatch):
    from datetime import timedelta

    from portal.domain import payments
    from portal.models import CardPayment
    from portal.payment_gateway import ProviderUnavailable

    signed_in.post_form("/payments/auto", {"kind": "threshold", "threshold": "100", "amount": "300",
                                           "card": card_id(db_session, "4242")})
    real = DevProvider.charge_saved

    def down(self, **kwargs):
        raise ProviderUnavailable("timed out")

    monkeypatch.setattr(DevProvider, "charge_saved", down)
    report = run_billing(db_session, day=DAY, now=NOW, autopay=settings(app))
    assert (report.autopaid, report.autopay_failed) == (0, 0)
    rule = db_session.scalars(select(AutoPayment)).one()
    assert rule.failures == 0 and rule.enabled and db_session.scalars(select(SmsMessage)).first() is None
    assert db_session.scalars(select(CardPayment.status)).one() == "created"
    monkeypatch.setattr(DevProvider, "charge_saved", real)
    later = NOW + timedelta(minutes=10)
    settled = payments.reconcile(db_session, DevProvider(db_session), older_than=later, now=later)
    assert settled.confirmed == 1
    db_session.expire_all()
    assert db_session.get(Account, account.id).balance == 5000 + 30000 and ledger.verify(db_session) == []
