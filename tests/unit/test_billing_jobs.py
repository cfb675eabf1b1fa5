"""The billing run as jobs: batches by id range, then the auto-payments due, one job each."""
import itertools
import time
from datetime import date, datetime

import pytest
from sqlalchemy import func, select, text

from portal import jobs
from portal.domain import ledger
from portal.domain.autopay import charge_rule, due_rule_ids
from portal.domain.billing import batches, bill_range, run_billing
from portal.extensions import db
from portal.models import Account, AutoPayment, CardPayment, CardToken, DevMethod, LedgerEntry, Login
from portal.payment_gateway import PaymentState, ProviderUnavailable
from portal.payment_gateway.dev import DevProvider
from tests import factories

CARDS = itertools.count()
DAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 0, 5)


def line(session, n: int, balance: int = 100000, fee: int = 50000) -> Account:
    return factories.make_line(session, f"+7916123{n:04d}", balance=balance,
                               tariff=factories.make_tariff(session, monthly_fee=fee))


def rule(session, account: Account, *, kind: str = "threshold", threshold: int | None = 60000, day: int | None = None,
         amount: int = 30000, token: str = "tok_good", **values) -> AutoPayment:
    login = (session.scalar(select(Login).where(Login.primary_account_id == account.id))
             or factories.make_login(session, account))
    card = CardToken(login_id=login.id, gateway_token=f"{token}{next(CARDS)}", last4="4242", expiry="")
    # The card as the development provider saved it: "tok_bad…" ones are declined when charged again.
    session.add_all([card, DevMethod(token=card.gateway_token, last4="4242", fails_later=token.startswith("tok_bad"))])
    session.flush()
    made = AutoPayment(account_id=account.id, login_id=login.id, card_token_id=card.id, kind=kind,
                       threshold=threshold if kind == "threshold" else None, day=day, amount=amount, **values)
    session.add(made)
    session.commit()
    return made


def balance(session, account_id: int) -> int:
    session.expire_all()
    return session.get(Account, account_id).balance


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("config_overrides", [{"BILLING_BATCH_SIZE": 2}])
def test_the_billing_job_bills_every_batch_then_the_auto_payments_due(db_session, app):
    accounts = [line(db_session, n) for n in range(5)]
    low = rule(db_session, accounts[3])  # 1000.00 - 500.00 leaves 500.00: below its 600.00
    db_session.commit()
    assert len(batches(db_session, 2)) == 3
    jobs.billing_run.delay(DAY.isoformat())
    assert [balance(db_session, a.id) for a in accounts] == [50000, 50000, 50000, 80000, 50000]
    assert db_session.get(AutoPayment, low.id).last_run_on == DAY.isoformat()
    entries = count(db_session, LedgerEntry)
    jobs.billing_run.delay(DAY.isoformat())  # again: nothing more
    assert count(db_session, LedgerEntry) == entries and balance(db_session, accounts[3].id) == 80000
    assert ledger.verify(db_session) == []


def test_a_batch_bills_its_range_and_queues_only_its_due_rules(db_session, app, monkeypatch):
    accounts = [line(db_session, n, balance=60000) for n in range(4)]
    rules = [rule(db_session, a) for a in accounts]
    queued = []
    monkeypatch.setattr(jobs.autopay_charge, "delay", lambda *args: queued.append(args))
    jobs.billing_batch(accounts[1].id, accounts[2].id, DAY.isoformat(), NOW.isoformat())
    assert [balance(db_session, a.id) for a in accounts] == [60000, 10000, 10000, 60000]
    assert queued == [(rules[1].id, DAY.isoformat(), NOW.isoformat()), (rules[2].id, DAY.isoformat(),
                                                                        NOW.isoformat())]


def test_only_the_rules_due_are_read(db_session, app):
    poor, rich = line(db_session, 1, balance=1000), line(db_session, 2, balance=900000)
    due = [rule(db_session, poor).id,
           rule(db_session, rich, kind="monthly", day=DAY.day).id,
           rule(db_session, rich, kind="monthly", day=15, failures=1).id]
    rule(db_session, rich)  # above its threshold
    rule(db_session, rich, kind="monthly", day=15)  # another day
    rule(db_session, poor, enabled=False)
    rule(db_session, poor, last_run_on=DAY.isoformat())  # ran today
    assert due_rule_ids(db_session, day=DAY) == due
    assert due_rule_ids(db_session, day=DAY, first_id=rich.id, last_id=rich.id) == due[1:]


def test_an_auto_payment_job_delivered_twice_pays_once(db_session, app):
    account = line(db_session, 1, balance=1000)
    made = rule(db_session, account)
    assert jobs.autopay_charge(made.id, DAY.isoformat(), NOW.isoformat()) == "paid"
    assert jobs.autopay_charge(made.id, DAY.isoformat(), NOW.isoformat()) == "nothing to do"
    assert balance(db_session, account.id) == 31000 and count(db_session, CardPayment) == 1
    assert ledger.verify(db_session) == []


class CountingProvider(DevProvider):
    def __init__(self, session, *, fail: Exception | None = None, during=None):
        super().__init__(session)
        self.calls, self.fail, self.during = 0, fail, during

    def charge_saved(self, **kwargs) -> PaymentState:
        self.calls += 1
        if self.during:
            self.during()
        if self.fail:
            raise self.fail
        return super().charge_saved(**kwargs)


def charge(session, gateway, rule_id):
    return charge_rule(session, gateway, rule_id=rule_id, day=DAY, now=NOW, max_failures=3, brand="TestTel",
                       sms_locale="en")


def test_the_gateway_down_leaves_the_payment_to_the_reconciliation(db_session, app):
    account = line(db_session, 1, balance=1000)
    made = rule(db_session, account)
    gateway = CountingProvider(db_session, fail=ProviderUnavailable("timeout"))
    assert charge(db_session, gateway, made.id) is None
    assert db_session.scalars(select(CardPayment)).one().status == "created"
    assert db_session.get(AutoPayment, made.id).last_run_on is None and balance(db_session, account.id) == 1000
    # Asked again the same day (the job redelivered): the payment is not sent to the card a second time.
    assert charge(db_session, gateway, made.id) is None and gateway.calls == 1


def test_a_slow_gateway_is_asked_with_no_lock_held(db_session, app):
    account = line(db_session, 1, balance=1000)
    made = rule(db_session, account)

    def another_writer():
        time.sleep(0.2)
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL lock_timeout = '500ms'"))
            conn.execute(text("UPDATE account SET balance = balance WHERE id = :id"), {"id": account.id})
            conn.execute(text("UPDATE auto_payment SET amount = amount WHERE id = :id"), {"id": made.id})

    gateway = CountingProvider(db_session, during=another_writer)
    assert charge(db_session, gateway, made.id) is True and balance(db_session, account.id) == 31000


def test_an_answer_already_applied_is_not_asked_for_twice(db_session, app):
    """The job died after the gateway answered and before the rule was marked: the repeat marks it only."""
    from portal.domain import payments
    from portal.domain.audit import SYSTEM

    account = line(db_session, 1, balance=1000)
    made = rule(db_session, account)
    gateway = CountingProvider(db_session)
    payments.top_up_by_saved_card(db_session, gateway, account_id=account.id, card=made.card, amount=made.amount,
                                  idempotency_key=f"auto:{made.id}:{DAY}", actor=SYSTEM, now=NOW)
    assert charge(db_session, gateway, made.id) is True and gateway.calls == 1
    assert balance(db_session, account.id) == 31000 and db_session.get(AutoPayment, made.id).failures == 0


def test_the_run_in_process_does_the_same_batches(db_session, app):
    accounts = [line(db_session, n) for n in range(5)]
    report = run_billing(db_session, day=DAY, now=NOW, batch_size=2)
    assert (report.accounts, report.charges, report.charged) == (5, 5, 250000)
    assert bill_range(db_session, first_id=accounts[0].id, last_id=accounts[-1].id, day=DAY, now=NOW).charges == 0


def test_the_billing_jobs_have_their_own_queue(app):
    from portal.extensions import celery

    route = celery.amqp.Router().route
    for task in ("portal.billing_run", "portal.billing_batch", "portal.autopay_charge"):
        assert route({}, task)["queue"].name == "billing"
    assert celery.conf.beat_schedule["billing-run"]["task"] == "portal.billing_run"


def test_a_batch_the_database_refused_is_tried_again_and_bills_once(db_session, app, monkeypatch):
    from celery.exceptions import Retry
    from sqlalchemy.exc import OperationalError

    from portal.domain import billing

    account = line(db_session, 1)
    db_session.commit()
    real, calls = billing.bill_range, []

    def busy_once(session, **kwargs):
        calls.append(kwargs["first_id"])
        if len(calls) == 1:
            session.execute(text("SELECT 1"))
            raise OperationalError("UPDATE account", {}, Exception("lock timeout"))
        return real(session, **kwargs)

    monkeypatch.setattr(billing, "bill_range", busy_once)
    retried = []
    monkeypatch.setattr(jobs.billing_batch, "retry", lambda exc, countdown: retried.append(countdown) or Retry())
    with pytest.raises(Retry):
        jobs.billing_batch(account.id, account.id, DAY.isoformat(), NOW.isoformat())
    assert retried == [30] and balance(db_session, account.id) == 100000  # rolled back whole
    jobs.billing_batch(account.id, account.id, DAY.isoformat(), NOW.isoformat())  # the retry
    assert len(calls) == 2 and balance(db_session, account.id) == 50000
    assert ledger.verify(db_session) == []
