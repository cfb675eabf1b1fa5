"""Reconciliation: payments left undecided are asked of the provider after a few minutes, and a late
success (even after a decline) is credited once."""
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import jobs
from portal.domain import ledger, payments
from portal.domain.audit import SYSTEM
from portal.extensions import celery
from portal.models import Account, AuditEvent, CardPayment, DevPayment, LedgerEntry, utcnow
from portal.payment_gateway import PaymentState, ProviderUnavailable
from portal.payment_gateway import dev as dev_provider
from portal.payment_gateway.dev import NEEDS_3DS, SUCCEEDS, DevProvider
from tests import factories

T0 = utcnow().replace(microsecond=0)
NUMBERS = itertools.count(1000000)


class Provider:
    """Answers ``answers[reference]`` when asked, and remembers who asked."""

    name = "dev"

    def __init__(self, **answers):
        self.answers, self.asked = answers, []

    def status(self, reference):
        self.asked.append(reference)
        answer = self.answers.get(reference, "pending")
        if answer == "down":
            raise ProviderUnavailable("timed out")
        return PaymentState(reference, answer)


def started(db_session, *, status="pending", ref="ref-1", at=T0, amount=50000, provider="dev") -> tuple[int, int]:
    account = factories.make_line(db_session, f"+7916{next(NUMBERS):07d}", balance=0)
    payment = CardPayment(token=f"tok-{ref}", account_id=account.id, amount=amount, status=status,
                          idempotency_key=f"key-{ref}-0000000000", gateway_ref=ref, provider=provider,
                          created_at=at)
    db_session.add(payment)
    db_session.commit()
    return account.id, payment.id


def balance(db_session, account_id):
    db_session.expire_all()
    return db_session.get(Account, account_id).balance


def topups(db_session):
    return db_session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "card_topup"))


def test_a_success_after_a_decline_is_credited_once(app, db_session):
    account_id, payment_id = started(db_session)
    for status in ("canceled", "succeeded", "succeeded", "canceled"):
        payments.apply_state(db_session, payment_id=payment_id, state=PaymentState("ref-1", status), actor=SYSTEM,
                             now=utcnow())
    payment = db_session.get(CardPayment, payment_id)
    assert (payment.status, payment.decline_reason) == ("confirmed", None)
    assert balance(db_session, account_id) == 50000 and topups(db_session) == 1
    assert ledger.verify(db_session) == []


def test_undecided_payments_are_asked_after_a_few_minutes_and_credited_once(app, db_session):
    account_id, payment_id = started(db_session, ref="ref-1")
    started(db_session, ref="ref-2", at=T0 + timedelta(minutes=4))
    _, done_id = started(db_session, ref="ref-3", status="declined")
    gateway = Provider(**{"ref-1": "succeeded", "ref-2": "succeeded"})
    now = T0 + timedelta(minutes=5, seconds=1)
    report = payments.reconcile(db_session, gateway, older_than=now - timedelta(minutes=5), now=now)
    assert gateway.asked == ["ref-1"]  # not the fresh one, not the decided one
    assert (report.asked, report.confirmed) == (1, 1)
    assert balance(db_session, account_id) == 50000
    again = payments.reconcile(db_session, gateway, older_than=T0 + timedelta(minutes=9), now=T0)
    assert gateway.asked == ["ref-1", "ref-2"] and again.confirmed == 1
    assert balance(db_session, account_id) == 50000 and topups(db_session) == 2
    assert db_session.get(CardPayment, done_id).status == "declined"
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "card_topup")) == 2


def test_an_undecided_or_unreachable_answer_changes_nothing(app, db_session):
    account_id, payment_id = started(db_session, ref="ref-1")
    started(db_session, ref="ref-2")
    report = payments.reconcile(db_session, Provider(**{"ref-2": "down"}), older_than=T0 + timedelta(minutes=1),
                                now=T0)
    assert (report.asked, report.undecided, report.unreachable) == (2, 1, 1)
    assert db_session.get(CardPayment, payment_id).status == "pending" and balance(db_session, account_id) == 0


def test_with_the_dev_provider_a_lost_answer_is_credited_and_an_abandoned_page_expires(app, db_session):
    provider = DevProvider(db_session)
    refs = {}
    for number in (SUCCEEDS, NEEDS_3DS):
        state = provider.create_payment(amount=50000, description=number, idempotence_key=f"k-{number}",
                                        return_url="/", receipt=None, save_method=False)
        at_provider = dev_provider.payment_on_page(db_session, state.reference)
        dev_provider.pay_with_card(db_session, at_provider, number=number, expiry="08/40", cvc="123", now=T0)
        refs[number] = state.reference
    _, paid_id = started(db_session, ref=refs[SUCCEEDS])  # the webhook and the return never came
    _, abandoned_id = started(db_session, ref=refs[NEEDS_3DS])
    _, lost_id = started(db_session, ref=None, status="created")  # the provider never answered its creation
    # An hour on, the 3-D Secure page nobody finished has expired at the provider.
    later = utcnow() + dev_provider.EXPIRES + timedelta(minutes=1)
    for payment in db_session.scalars(select(DevPayment)):
        payment.created_at = utcnow() - dev_provider.EXPIRES - timedelta(minutes=1)
    db_session.commit()
    report = payments.reconcile(db_session, provider, older_than=T0 + timedelta(minutes=1), now=later)
    assert (report.confirmed, report.declined) == (1, 2)
    assert db_session.get(CardPayment, paid_id).status == "confirmed"
    assert db_session.get(CardPayment, abandoned_id).decline_reason == "expired"
    assert (db_session.get(CardPayment, lost_id).decline_reason, db_session.get(CardPayment, lost_id).gateway_ref) \
        == ("not_created", None)
    again = payments.reconcile(db_session, provider, older_than=later, now=later)
    assert again.asked == 0 and topups(db_session) == 1 and ledger.verify(db_session) == []


def test_another_providers_payment_is_not_asked_of_this_one(app, db_session):
    _, payment_id = started(db_session, provider="test")
    provider = Provider(**{"ref-1": "succeeded"})
    report = payments.reconcile(db_session, provider, older_than=T0 + timedelta(minutes=1), now=T0)
    assert provider.asked == [] and report.unreachable == 1
    assert db_session.get(CardPayment, payment_id).status == "pending"


def test_the_cli_and_the_beat_reconcile(app, db_session):
    started(db_session, at=utcnow() - timedelta(minutes=10))
    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0 and "1 unsettled payment(s) asked of the provider" in result.output
    assert celery.conf.beat_schedule["reconcile-payments"]["task"] == jobs.reconcile_payments.name


@pytest.mark.parametrize("config_overrides", [{"PAYMENT_RECONCILE_AFTER": 3600}])
def test_the_task_waits_the_configured_time(app, db_session):
    started(db_session, at=utcnow() - timedelta(minutes=10))
    assert jobs.reconcile_payments.apply().get().startswith("0 unsettled")
