"""Top-ups by СБП (the Faster Payments System): the method, QR payload, bank-app link and expiry a payment keeps;
one credit however the confirmation arrives; expiry; the provider asked at most once per period by a polling page;
and the development provider's QR code and "bank app"."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import ledger, payments
from portal.domain.audit import SYSTEM, Actor
from portal.models import AuditEvent, CardPayment, DevPayment, LedgerEntry, utcnow
from portal.payment_gateway import CARD, SBP, PaymentState
from portal.payment_gateway import dev as dev_provider
from portal.payment_gateway.dev import DevProvider
from tests.unit.test_payments import LIMITS, FakeProvider, account_login, balance, topups

EVERY = timedelta(seconds=5)


@pytest.fixture
def account(db_session):
    from tests import factories

    account = factories.make_line(db_session, "+79161234567", balance=10000)
    factories.make_login(db_session, account)
    db_session.commit()
    return account


@pytest.fixture
def provider(db_session):
    return FakeProvider(db_session)


def start_sbp(db_session, provider, account, *, key="s" * 24, amount=50000, save=False, method=SBP, now=None):
    login_id = account_login(db_session, account)
    return payments.start_topup(db_session, provider, account_id=account.id, login_id=login_id, amount=amount,
                                save_method=save, idempotency_key=key, limits=LIMITS,
                                return_url=lambda token: f"https://portal/payments/{token}", actor=Actor(),
                                now=now or utcnow(), method=method)


def test_an_sbp_payment_keeps_its_method_qr_payload_link_and_expiry(db_session, provider, account):
    payment = start_sbp(db_session, provider, account, save=True)
    assert provider.method == SBP and provider.save_method is False  # only a card is saved for next time
    assert (payment.method, payment.status, payment.save_card) == ("sbp", "pending", False)
    assert payment.qr_payload == "https://qr.nspk.example/ref-1?sum=50000"
    assert payment.confirmation_url == "https://qr.nspk.example/ref-1"
    assert payment.expires_at == provider.states["ref-1"].expires_at
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "card_payment_started")).one()
    assert audit.detail == "50000 by sbp"
    # A card payment is still a card payment, with no QR code.
    card = start_sbp(db_session, provider, account, key="c" * 24, method=CARD)
    assert (card.method, card.qr_payload, card.confirmation_url) == ("card", None, "https://pay/ref-2")


def test_an_unknown_method_is_refused_before_anything_is_created(db_session, provider, account):
    with pytest.raises(payments.BadPaymentMethod) as err:
        start_sbp(db_session, provider, account, method="cash")
    assert err.value.field == "method"
    assert provider.calls == [] and db_session.scalar(select(func.count()).select_from(CardPayment)) == 0


def test_the_same_form_again_is_the_same_sbp_payment(db_session, provider, account):
    first = start_sbp(db_session, provider, account)
    again = start_sbp(db_session, provider, account, method=CARD)  # a retry keeps the first submission's method
    assert again.id == first.id and again.method == "sbp" and provider.calls == ["create"]


def test_credited_once_with_the_webhook_and_a_page_polling_twice(db_session, provider, account):
    payment = start_sbp(db_session, provider, account)
    provider.states["ref-1"] = PaymentState("ref-1", "succeeded", method_title="SBP")
    now = utcnow()
    done = payments.provider_notification(db_session, provider, body=b"ref-1", actor=SYSTEM, now=now)
    assert done.status == "confirmed"
    for later in (1, 10):
        polled = payments.refresh_if_due(db_session, provider, payment_id=payment.id, every=EVERY, actor=Actor(),
                                         now=now + timedelta(seconds=later))
        assert polled.status == "confirmed"
    payments.refresh(db_session, provider, payment_id=payment.id, actor=Actor(), now=now)
    payments.apply_state(db_session, payment_id=payment.id, state=provider.states["ref-1"], actor=SYSTEM, now=now)
    assert balance(db_session, account) == 60000 and topups(db_session) == 1
    assert provider.calls == ["create", "status"]  # decided: nobody asks again
    entry = db_session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "card_topup")).one()
    assert entry.params == {"kind": "sbp_payment"} and entry.description in ("Paid through SBP", "Оплата через СБП")
    decided = db_session.get(CardPayment, payment.id)
    assert (decided.qr_payload, decided.confirmation_url, decided.method_title) == (None, None, "SBP")
    assert ledger.verify(db_session) == []


def test_the_poll_and_the_webhook_in_the_other_order_credit_once(db_session, provider, account):
    payment = start_sbp(db_session, provider, account)
    provider.states["ref-1"] = PaymentState("ref-1", "succeeded", method_title="SBP")
    now = utcnow()
    assert payments.refresh_if_due(db_session, provider, payment_id=payment.id, every=EVERY, actor=Actor(),
                                   now=now).status == "confirmed"
    for _ in range(2):
        payments.provider_notification(db_session, provider, body=b"ref-1", actor=SYSTEM, now=now)
    assert balance(db_session, account) == 60000 and topups(db_session) == 1
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "card_topup")) == 1


def test_a_polling_page_asks_the_provider_at_most_once_per_period(db_session, provider, account):
    payment = start_sbp(db_session, provider, account)
    now = utcnow()
    for seconds in (0, 1, 3, 4.9):  # a page polling every 3 s in two tabs
        assert payments.refresh_if_due(db_session, provider, payment_id=payment.id, every=EVERY, actor=Actor(),
                                       now=now + timedelta(seconds=seconds)).status == "pending"
    assert provider.calls == ["create", "status"]
    payments.refresh_if_due(db_session, provider, payment_id=payment.id, every=EVERY, actor=Actor(),
                            now=now + timedelta(seconds=5))
    assert provider.calls == ["create", "status", "status"]


def test_the_provider_down_while_polled_leaves_the_payment_waiting_and_is_asked_again_later(db_session, provider,
                                                                                            account):
    payment = start_sbp(db_session, provider, account)
    provider.down = True
    now = utcnow()
    with pytest.raises(payments.ProviderUnavailable):
        payments.refresh_if_due(db_session, provider, payment_id=payment.id, every=EVERY, actor=Actor(), now=now)
    # FakeProvider checked that no transaction (no lock) was open while it was asked.
    assert db_session.get(CardPayment, payment.id).status == "pending"
    provider.down = False
    provider.states["ref-1"] = PaymentState("ref-1", "succeeded", method_title="SBP")
    assert payments.refresh_if_due(db_session, provider, payment_id=payment.id, every=EVERY, actor=Actor(),
                                   now=now + EVERY).status == "confirmed"
    assert balance(db_session, account) == 60000


def test_past_its_expiry_a_payment_the_provider_still_calls_pending_is_declined_as_expired(db_session, provider,
                                                                                           account):
    now = utcnow()
    provider.expires_at = now + timedelta(minutes=10)
    payment = start_sbp(db_session, provider, account, now=now)
    assert not payments.ran_out(payment, now + timedelta(minutes=9))
    waiting = payments.refresh(db_session, provider, payment_id=payment.id, actor=Actor(),
                               now=now + timedelta(minutes=9))
    assert waiting.status == "pending"
    assert payments.ran_out(waiting, now + timedelta(minutes=10))  # told so before the provider is asked
    expired = payments.refresh(db_session, provider, payment_id=payment.id, actor=Actor(),
                               now=now + timedelta(minutes=10))
    assert (expired.status, expired.decline_reason, expired.qr_payload) == ("declined", "expired", None)
    assert payments.ran_out(expired, now) and balance(db_session, account) == 10000
    assert db_session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "card_payment_declined")).one() \
        == "expired"
    # The payer's bank paid at the last moment after all: the provider's word wins, credited once.
    provider.states["ref-1"] = PaymentState("ref-1", "succeeded", method_title="SBP")
    for _ in range(2):
        payments.provider_notification(db_session, provider, body=b"ref-1", actor=SYSTEM, now=now)
    assert db_session.get(CardPayment, payment.id).status == "confirmed"
    assert balance(db_session, account) == 60000 and topups(db_session) == 1


@pytest.mark.parametrize("reason", ["expired", "expired_on_confirmation"])
def test_a_provider_that_gives_up_on_it_declines_it_as_expired(db_session, provider, account, reason):
    payment = start_sbp(db_session, provider, account)
    provider.states["ref-1"] = PaymentState("ref-1", "canceled", cancel_reason=reason)
    done = payments.refresh(db_session, provider, payment_id=payment.id, actor=Actor(), now=utcnow())
    assert (done.status, done.decline_reason) == ("declined", "expired") and payments.ran_out(done, utcnow())


def test_declined_in_the_bank_app_before_the_expiry_is_not_expired(db_session, provider, account):
    payment = start_sbp(db_session, provider, account)
    provider.states["ref-1"] = PaymentState("ref-1", "canceled", cancel_reason="canceled_by_customer")
    done = payments.refresh(db_session, provider, payment_id=payment.id, actor=Actor(), now=utcnow())
    assert done.decline_reason == "canceled_by_customer" and not payments.ran_out(done, utcnow())


def test_reconciliation_declines_an_expired_sbp_payment(db_session, provider, account):
    now = utcnow()
    provider.expires_at = now - timedelta(seconds=1)
    start_sbp(db_session, provider, account, now=now - timedelta(minutes=11))
    report = payments.reconcile(db_session, provider, older_than=now, now=now)
    assert (report.asked, report.declined) == (1, 1)
    assert db_session.scalars(select(CardPayment.decline_reason)).one() == "expired"


# ---- the development provider ------------------------------------------------------------------------------------

def dev_sbp(db_session, *, key="q" * 24, expires=timedelta(minutes=10)):
    provider = DevProvider(db_session, sbp_expires=expires)
    state = provider.create_payment(amount=50000, description="Top-up x", idempotence_key=key,
                                    return_url="http://127.0.0.1:5000/payments/tok", receipt=None, save_method=True,
                                    method=SBP)
    return provider, state, db_session.scalars(select(DevPayment).where(DevPayment.reference == state.reference)).one()


def test_the_dev_provider_answers_sbp_with_its_bank_app_as_link_and_qr_payload(db_session):
    before = utcnow()
    provider, state, at_provider = dev_sbp(db_session)
    reference = state.reference
    assert state.status == "pending" and state.confirmation.kind == "qr"
    assert state.confirmation.url == f"/dev/sbp/{reference}"
    assert state.confirmation.qr_payload == f"http://127.0.0.1:5000/dev/sbp/{reference}?type=02&sum=50000&cur=RUB"
    assert before + timedelta(minutes=10) <= state.expires_at <= utcnow() + timedelta(minutes=10)
    assert (at_provider.method, at_provider.save_method) == ("sbp", False)
    _, again, _ = dev_sbp(db_session)
    assert again == state and provider.status(reference) == state


def test_the_dev_bank_app_approves_or_declines(db_session):
    provider, state, paid = dev_sbp(db_session)
    dev_provider.answer_in_bank_app(db_session, paid, approve=True, now=utcnow())
    answer = provider.status(state.reference)
    assert (answer.status, answer.method_title, answer.confirmation, answer.saved_token) == \
        ("succeeded", "SBP", None, None)
    dev_provider.answer_in_bank_app(db_session, paid, approve=False, now=utcnow())  # decided is final
    assert provider.status(state.reference).status == "succeeded"
    _, state, declined = dev_sbp(db_session, key="r" * 24)
    dev_provider.answer_in_bank_app(db_session, declined, approve=False, now=utcnow())
    assert provider.status(state.reference).cancel_reason == "canceled_by_customer"


def test_an_unanswered_dev_sbp_payment_expires_after_its_minutes(db_session):
    provider, state, payment = dev_sbp(db_session, expires=timedelta(seconds=30))
    assert provider.status(state.reference).status == "pending"
    payment.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    answer = provider.status(state.reference)
    assert (answer.status, answer.cancel_reason) == ("canceled", "expired")
    dev_provider.answer_in_bank_app(db_session, payment, approve=True, now=utcnow())  # too late to approve
    assert provider.status(state.reference).status == "canceled"


def test_the_dev_card_page_keeps_its_hour(db_session):
    provider = DevProvider(db_session)
    state = provider.create_payment(amount=100, description="x", idempotence_key="w" * 24, return_url="/back",
                                    receipt=None, save_method=False)
    assert state.confirmation.kind == "redirect" and state.confirmation.qr_payload is None
    payment = db_session.scalars(select(DevPayment)).one()
    assert payment.method == "card" and state.expires_at == payment.created_at + dev_provider.EXPIRES
