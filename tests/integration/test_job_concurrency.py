"""Lost and repeated jobs on real PostgreSQL: an SMS task delivered twice at once (a late acknowledgement
after a killed worker, and the sweep) sends once, and a slow SMSC holds no row lock meanwhile."""
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.domain import sms
from portal.extensions import db
from portal.models import SmsMessage, utcnow
from tests.integration.test_tariff_concurrency import run_together

pytestmark = pytest.mark.postgres


class SlowSmsc:
    """Holds each message until the test lets it go, and counts what it was given."""

    def __init__(self):
        self.entered, self.release, self.sent = threading.Event(), threading.Event(), []

    def send(self, to, text, *, sender):
        self.sent.append(to)
        self.entered.set()
        self.release.wait(20)
        return f"smsc-{len(self.sent)}"


def queued_message() -> int:
    with Session(db.engine) as session:
        message_id = sms.queue_sms(session, to="+79161234567", text="alert", purpose="alert").id
        session.info.clear()  # its job was lost
        session.commit()
    return message_id


def deliver(message_id, smsc):
    return lambda session: sms.deliver_sms(session, message_id, gateway=smsc, sender="TestTel", now=utcnow(),
                                           max_attempts=5)


def test_a_message_delivered_twice_at_once_is_sent_once_and_locks_nothing_meanwhile(pg):
    message_id = queued_message()
    smsc = SlowSmsc()
    first = threading.Thread(target=lambda: run_together(pg, [deliver(message_id, smsc)]))
    first.start()
    try:
        assert smsc.entered.wait(10)
        with db.engine.connect() as other:  # NOWAIT: raises at once if the first delivery held the row
            other.execute(sa.text("select id from sms_message where id = :id for update nowait"), {"id": message_id})
            other.rollback()
        assert run_together(pg, [deliver(message_id, smsc)]) == ["ok"]  # the twin returns without sending
    finally:
        smsc.release.set()
        first.join(20)
    assert smsc.sent == ["+79161234567"]
    with Session(db.engine) as session:
        message = session.get(SmsMessage, message_id)
        assert (message.status, message.attempts, message.provider_id) == ("sent", 1, "smsc-1")


def test_two_deliveries_arriving_together_send_once(pg):
    message_id = queued_message()
    smsc = SlowSmsc()
    smsc.release.set()
    assert run_together(pg, [deliver(message_id, smsc), deliver(message_id, smsc)]) == ["ok", "ok"]
    assert smsc.sent == ["+79161234567"]


def test_a_late_success_arriving_twice_at_once_after_a_decline_is_credited_once(pg):
    from portal.domain import ledger, payments
    from portal.domain.audit import SYSTEM
    from portal.models import Account, CardPayment
    from portal.payment_gateway import PaymentState
    from tests import factories

    with Session(db.engine) as session:
        account = factories.make_line(session, "+79161234567", balance=0)
        payment = CardPayment(token="tok-late", account_id=account.id, amount=50000, status="declined",
                              idempotency_key="key-late-000000000", gateway_ref="ref-late", card_last4="3220")
        session.add(payment)
        session.commit()
        account_id, payment_id = account.id, payment.id

    def succeeded(session):  # the provider's webhook and the reconciliation's answer, together
        payments.apply_state(session, payment_id=payment_id, state=PaymentState("ref-late", "succeeded"),
                             actor=SYSTEM, now=utcnow())

    assert run_together(pg, [succeeded, succeeded]) == ["ok", "ok"]
    with Session(db.engine) as session:
        assert session.get(Account, account_id).balance == 50000
        assert session.get(CardPayment, payment_id).status == "confirmed"
        assert ledger.verify(session) == []


class SlowProvider:
    """A payment provider whose status request hangs until the test lets it go (then: succeeded)."""

    name = "slow"

    def __init__(self):
        self.entered, self.release, self.asked = threading.Event(), threading.Event(), 0

    def status(self, reference):
        from portal.payment_gateway import PaymentState

        self.asked += 1
        self.entered.set()
        self.release.wait(20)
        return PaymentState(reference, "succeeded", card_last4="4242")

    def notified_reference(self, body):
        return body.decode()


def test_a_slow_provider_holds_no_lock_and_two_webhooks_at_once_credit_once(pg):
    from portal.domain import ledger, payments
    from portal.domain.audit import SYSTEM
    from portal.models import Account, CardPayment
    from tests import factories

    with Session(db.engine) as session:
        account = factories.make_line(session, "+79161234567", balance=0)
        payment = CardPayment(token="tok-slow", account_id=account.id, amount=50000, status="pending",
                              idempotency_key="key-slow-000000000", gateway_ref="ref-slow", provider="slow")
        session.add(payment)
        session.commit()
        account_id, payment_id = account.id, payment.id
    provider = SlowProvider()

    def webhook(session):
        payments.provider_notification(session, provider, body=b"ref-slow", actor=SYSTEM, now=utcnow())

    first = threading.Thread(target=lambda: run_together(pg, [webhook, webhook]))
    first.start()
    try:
        assert provider.entered.wait(10)
        with db.engine.connect() as other:  # NOWAIT: raises at once if a webhook held a row while it waits
            for table, row in (("account", account_id), ("card_payment", payment_id)):
                other.execute(sa.text(f"select id from {table} where id = :id for update nowait"), {"id": row})
            other.rollback()
    finally:
        provider.release.set()
        first.join(20)
    with Session(db.engine) as session:
        assert session.get(Account, account_id).balance == 50000
        assert session.get(CardPayment, payment_id).status == "confirmed"
        assert ledger.verify(session) == []
