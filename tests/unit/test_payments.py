"""The top-up's domain around the provider's hosted page: create, confirm (webhook, return, in any order and as
often as they come), decline, the provider down, slow or answering twice; and the development provider."""
import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import ledger, payments
from portal.domain.audit import SYSTEM, Actor
from portal.domain.errors import DomainError, NotFound
from portal.models import Account, AuditEvent, CardPayment, CardToken, DevPayment, LedgerEntry, utcnow
from portal.payment_gateway import CARD, SBP, Confirmation, PaymentState, ProviderUnavailable, Receipt
from portal.payment_gateway import dev as dev_provider
from portal.payment_gateway.dev import SUCCEEDS, DevProvider, check_card, luhn_ok
from tests import factories

TODAY = date(2026, 12, 7)
LIMITS = payments.TopupLimits(1000, 1500000)
KEYS = itertools.count(1)


class FakeProvider:
    """A provider that answers from ``states[reference]``, can be down, and checks no transaction of the portal is
    open while it is asked (a slow provider must never hold a database lock)."""

    name = "fake"

    def __init__(self, session):
        self.session, self.states, self.created, self.down = session, {}, {}, False
        self.calls, self.expires_at = [], None

    def _called(self, what):
        assert not self.session().in_transaction(), f"{what} asked with a transaction open"
        self.calls.append(what)
        if self.down:
            raise ProviderUnavailable("timed out")

    def create_payment(self, *, amount, description, idempotence_key, return_url, receipt, save_method, method=CARD):
        self._called("create")
        assert isinstance(receipt, Receipt) and receipt.amount == amount and receipt.phone == "+79161234567"
        self.receipt, self.method, self.save_method = receipt, method, save_method
        if idempotence_key not in self.created:  # the same key answers the same payment
            reference = f"ref-{len(self.created) + 1}"
            self.created[idempotence_key] = reference
            if method == SBP:  # a QR payload and the bank app's link, valid for 10 minutes
                self.states[reference] = PaymentState(
                    reference, "pending", expires_at=self.expires_at or utcnow() + timedelta(minutes=10),
                    confirmation=Confirmation("qr", url=f"https://qr.nspk.example/{reference}",
                                              qr_payload=f"https://qr.nspk.example/{reference}?sum={amount}"))
            else:
                self.states[reference] = PaymentState(
                    reference, "pending", confirmation=Confirmation("redirect", url=f"https://pay/{reference}"))
        self.return_url = return_url
        return self.states[self.created[idempotence_key]]

    def status(self, reference):
        self._called("status")
        return self.states[reference]

    def charge_saved(self, *, amount, token, description, idempotence_key, receipt=None):
        self._called("charge_saved")
        assert receipt is not None and receipt.amount == amount and receipt.phone == "+79161234567"
        reference = self.created.setdefault(idempotence_key, f"saved-{len(self.created) + 1}")
        self.states.setdefault(reference, PaymentState(reference, "succeeded", method_title="card *4417",
                                                       card_last4="4417"))
        return self.states[reference]

    def notified_reference(self, body):
        return body.decode() or None

    def decide(self, reference, status="succeeded", **extra):
        self.states[reference] = PaymentState(reference, status, card_last4="4242", method_title="card *4242",
                                              **extra)


@pytest.fixture
def account(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=10000)
    factories.make_login(db_session, account)
    db_session.commit()
    return account


@pytest.fixture
def provider(db_session):
    return FakeProvider(db_session)


def start(db_session, provider, account, *, key=None, amount=50000, save=False):
    login_id = account_login(db_session, account)
    return payments.start_topup(db_session, provider, account_id=account.id, login_id=login_id,
                                amount=amount, save_method=save, idempotency_key=key or f"key-{next(KEYS):020d}",
                                limits=LIMITS, return_url=lambda token: f"https://portal/payments/{token}",
                                actor=Actor(), now=utcnow())


def account_login(db_session, account):
    from portal.models import Login

    return db_session.scalar(select(Login.id).where(Login.primary_account_id == account.id))


def balance(db_session, account):
    db_session.expire_all()
    return db_session.get(Account, account.id).balance


def topups(db_session):
    return db_session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "card_topup"))


def test_create_makes_a_pending_payment_with_the_providers_page(db_session, provider, account):
    payment = start(db_session, provider, account)
    assert (payment.status, payment.gateway_ref, payment.confirmation_url) == ("pending", "ref-1", "https://pay/ref-1")
    assert payment.provider == "fake" and provider.return_url == f"https://portal/payments/{payment.token}"
    assert provider.receipt == Receipt(phone="+79161234567", item="Top-up", amount=50000)
    assert balance(db_session, account) == 10000


def test_create_twice_with_the_same_key_is_one_payment_and_the_provider_is_not_asked_again(db_session, provider,
                                                                                           account):
    first = start(db_session, provider, account, key="k" * 24)
    again = start(db_session, provider, account, key="k" * 24)
    assert again.id == first.id and provider.calls == ["create"]


def test_the_provider_down_on_create_keeps_the_payment_for_a_retry_with_the_same_key(db_session, provider, account):
    provider.down = True
    with pytest.raises(payments.ProviderDown):
        start(db_session, provider, account, key="k" * 24)
    assert db_session.scalars(select(CardPayment)).one().status == "created"
    provider.down = False
    payment = start(db_session, provider, account, key="k" * 24)
    assert payment.status == "pending" and payment.gateway_ref == "ref-1"
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 1


def test_a_provider_answering_twice_on_create_gives_one_reference(db_session, provider, account):
    """The first answer was lost (a timeout after the provider created it): the retry gets the same payment."""
    provider.down = True
    with pytest.raises(payments.ProviderDown):
        start(db_session, provider, account, key="k" * 24)
    provider.created["k" * 24] = "ref-7"
    provider.states["ref-7"] = PaymentState("ref-7", "pending", confirmation=Confirmation("redirect", url="https://p/7"))
    provider.down = False
    assert start(db_session, provider, account, key="k" * 24).gateway_ref == "ref-7"


def test_the_webhook_twice_credits_once_and_reads_the_status_each_time(db_session, provider, account):
    payment = start(db_session, provider, account)
    provider.decide("ref-1")
    for _ in range(2):
        done = payments.provider_notification(db_session, provider, body=b"ref-1", actor=SYSTEM, now=utcnow())
        assert done.status == "confirmed"
    assert provider.calls == ["create", "status"]  # the second finds it decided: nothing to ask
    assert balance(db_session, account) == 60000 and topups(db_session) == 1
    assert db_session.get(CardPayment, payment.id).card_last4 == "4242"
    assert ledger.verify(db_session) == []


def test_a_webhook_for_an_undecided_payment_changes_nothing_whatever_it_says(db_session, provider, account):
    start(db_session, provider, account)
    assert payments.provider_notification(db_session, provider, body=b"ref-1", actor=SYSTEM,
                                          now=utcnow()).status == "pending"
    assert balance(db_session, account) == 10000
    with pytest.raises(NotFound):
        payments.provider_notification(db_session, provider, body=b"ref-unknown", actor=SYSTEM, now=utcnow())
    with pytest.raises(payments.BadNotification):
        payments.provider_notification(db_session, provider, body=b"", actor=SYSTEM, now=utcnow())


@pytest.mark.parametrize("order", [("webhook", "return"), ("return", "webhook"), ("return", "return", "webhook")])
def test_webhook_and_return_in_any_order_credit_once(db_session, provider, account, order):
    payment = start(db_session, provider, account)
    provider.decide("ref-1")
    for arrival in order:
        if arrival == "webhook":
            payments.provider_notification(db_session, provider, body=b"ref-1", actor=SYSTEM, now=utcnow())
        else:
            payments.refresh(db_session, provider, payment_id=payment.id, actor=Actor(), now=utcnow())
    assert balance(db_session, account) == 60000 and topups(db_session) == 1
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "card_topup")) == 1


def test_a_decline_moves_nothing_and_a_later_success_still_credits_once(db_session, provider, account):
    payment = start(db_session, provider, account)
    provider.decide("ref-1", "canceled", cancel_reason="insufficient_funds")
    done = payments.refresh(db_session, provider, payment_id=payment.id, actor=Actor(), now=utcnow())
    assert (done.status, done.decline_reason) == ("declined", "insufficient_funds")
    assert balance(db_session, account) == 10000
    provider.decide("ref-1")  # the provider's final word differs: the money did leave the card
    for _ in range(2):
        payments.apply_state(db_session, payment_id=payment.id, state=provider.states["ref-1"], actor=SYSTEM,
                             now=utcnow())
    assert balance(db_session, account) == 60000 and topups(db_session) == 1


def test_the_provider_down_or_slow_on_status_leaves_the_payment_for_later(db_session, provider, account):
    payment = start(db_session, provider, account)
    provider.decide("ref-1")
    provider.down = True
    with pytest.raises(ProviderUnavailable):
        payments.refresh(db_session, provider, payment_id=payment.id, actor=Actor(), now=utcnow())
    # No transaction, so no lock, was open while it was asked (FakeProvider checks): nothing waited for it.
    assert db_session.get(CardPayment, payment.id).status == "pending" and balance(db_session, account) == 10000


def test_a_saved_method_is_kept_only_when_asked_and_granted(db_session, provider, account):
    asked = start(db_session, provider, account, save=True)
    provider.decide(asked.gateway_ref, saved_token="tok-saved")
    payments.refresh(db_session, provider, payment_id=asked.id, actor=Actor(), now=utcnow())
    not_asked = start(db_session, provider, account)
    provider.decide(not_asked.gateway_ref, saved_token="tok-other")
    payments.refresh(db_session, provider, payment_id=not_asked.id, actor=Actor(), now=utcnow())
    assert [(t.gateway_token, t.last4) for t in db_session.scalars(select(CardToken))] == [("tok-saved", "4242")]


def test_a_saved_method_charged_twice_with_one_key_pays_once_and_the_provider_down_is_settled_later(
        db_session, provider, account):
    card = CardToken(login_id=account_login(db_session, account), gateway_token="tok-1", last4="4417", expiry="")
    db_session.add(card)
    db_session.commit()

    def charge(key):
        return payments.top_up_with_saved_card(db_session, provider, account_id=account.id, login_id=card.login_id,
                                               card_token_id=card.id, amount=30000, idempotency_key=key,
                                               limits=LIMITS, actor=Actor(), now=utcnow())

    assert charge("s" * 24).status == "confirmed" and charge("s" * 24).status == "confirmed"
    assert provider.calls == ["charge_saved"] and balance(db_session, account) == 40000
    provider.down = True
    lost = charge("t" * 24)
    assert lost.status == "created" and balance(db_session, account) == 40000
    provider.down = False
    # Reconciliation charges again with the same key: the provider answers its first charge, if there was one.
    report = payments.reconcile(db_session, provider, older_than=utcnow() + timedelta(minutes=1), now=utcnow())
    assert (report.asked, report.confirmed) == (1, 1)
    assert balance(db_session, account) == 70000 and topups(db_session) == 2
    with pytest.raises(payments.BadMethod):
        other = factories.make_login(db_session, factories.make_line(db_session, "+79031112233"))
        payments.top_up_with_saved_card(db_session, provider, account_id=account.id, login_id=other.id,
                                        card_token_id=card.id, amount=30000, idempotency_key="u" * 24,
                                        limits=LIMITS, actor=Actor(), now=utcnow())


def test_amounts_outside_the_limits_are_refused_before_anything_is_created(db_session, provider, account):
    for amount in (999, 1500001):
        with pytest.raises(DomainError):
            start(db_session, provider, account, amount=amount)
    assert provider.calls == [] and db_session.scalar(select(func.count()).select_from(CardPayment)) == 0


# ---- the development provider ----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["12/29", "1229", "12 29", "12-29", " 12 / 29 ", "12.29", "8/29"])
def test_the_expiry_is_read_with_or_without_a_separator(typed):
    assert check_card(SUCCEEDS, typed, "123", today=TODAY) == SUCCEEDS


@pytest.mark.parametrize("number, expiry, cvc, field", [
    ("4242", "08/30", "123", "card_number"),
    ("4242 4242 4242 4241", "08/30", "123", "card_number"),
    ("4242-4242-4242-4242x", "08/30", "123", "card_number"),
    (SUCCEEDS, "829", "123", "expiry"),
    (SUCCEEDS, "13/29", "123", "expiry"),
    (SUCCEEDS, "11/26", "123", "expiry"),  # expired
    (SUCCEEDS, "08/30", "12a", "cvc"),
])
def test_bad_cards_name_the_field(number, expiry, cvc, field):
    with pytest.raises(dev_provider.BadCard) as err:
        check_card(number, expiry, cvc, today=TODAY)
    assert err.value.field == field


def test_luhn():
    assert luhn_ok(SUCCEEDS) and luhn_ok(dev_provider.DECLINED) and luhn_ok(dev_provider.NEEDS_3DS)
    assert luhn_ok(dev_provider.FAILS_LATER) and not luhn_ok("4242424242424241")


def dev_payment(db_session, *, save=False, key="d" * 24):
    provider = DevProvider(db_session)
    state = provider.create_payment(amount=50000, description="Top-up x", idempotence_key=key,
                                    return_url="https://portal/back", receipt=None, save_method=save)
    return provider, state, db_session.scalars(select(DevPayment).where(DevPayment.reference == state.reference)).one()


def test_the_dev_provider_answers_the_same_key_with_the_same_payment(db_session):
    provider, state, _ = dev_payment(db_session)
    assert state.status == "pending" and state.confirmation.url == f"/dev/pay/{state.reference}"
    _, again, _ = dev_payment(db_session)
    assert again == state and db_session.scalar(select(func.count()).select_from(DevPayment)) == 1
    assert provider.status(state.reference) == state
    assert provider.status("dev_unknown").cancel_reason == "not_found"


def test_the_dev_provider_test_cards(db_session):
    now = utcnow()
    provider, state, paid = dev_payment(db_session, save=True, key="a" * 24)
    dev_provider.pay_with_card(db_session, paid, number=SUCCEEDS, expiry="08/40", cvc="123", now=now)
    answer = provider.status(state.reference)
    assert (answer.status, answer.method_title, answer.saved_token) == ("succeeded", "card *4242", paid.method_token)
    _, state, declined = dev_payment(db_session, key="b" * 24)
    dev_provider.pay_with_card(db_session, declined, number=dev_provider.DECLINED, expiry="08/40", cvc="123", now=now)
    assert provider.status(state.reference).cancel_reason == "insufficient_funds"
    _, state, secure = dev_payment(db_session, key="c" * 24)
    dev_provider.pay_with_card(db_session, secure, number=dev_provider.NEEDS_3DS, expiry="08/40", cvc="123", now=now)
    assert provider.status(state.reference).status == "pending"
    with pytest.raises(dev_provider.WrongCode):
        dev_provider.confirm_3ds(db_session, secure, code="0000", now=now)
    dev_provider.confirm_3ds(db_session, secure, code="1234", now=now)
    assert provider.status(state.reference).status == "succeeded"
    _, state, later = dev_payment(db_session, save=True, key="e" * 24)
    dev_provider.pay_with_card(db_session, later, number=dev_provider.FAILS_LATER, expiry="08/40", cvc="123", now=now)
    token = provider.status(state.reference).saved_token
    assert provider.charge_saved(amount=100, token=token, description="x", idempotence_key="f" * 24).cancel_reason \
        == "card_declined"
    assert provider.charge_saved(amount=100, token=paid.method_token, description="x",
                                 idempotence_key="g" * 24).status == "succeeded"
    assert provider.charge_saved(amount=100, token="dev_tok_unknown", description="x",
                                 idempotence_key="h" * 24).cancel_reason == "method_not_found"


def test_an_unfinished_dev_page_expires(db_session):
    provider, state, payment = dev_payment(db_session)
    payment.created_at = utcnow() - dev_provider.EXPIRES - timedelta(seconds=1)
    db_session.commit()
    assert provider.status(state.reference).cancel_reason == "expired"
    assert provider.notified_reference(b'{"object": {"id": "dev_x"}}') == "dev_x"
    assert provider.notified_reference(b'{"object": 1}') is None and provider.notified_reference(b"\xff") is None


def test_a_method_that_is_not_a_card_is_named_by_the_providers_title(db_session, provider, account):
    payment = start(db_session, provider, account)
    provider.states["ref-1"] = PaymentState("ref-1", "succeeded", method_title="SBP")
    done = payments.refresh(db_session, provider, payment_id=payment.id, actor=Actor(), now=utcnow())
    assert (done.status, done.card_last4, done.method_title) == ("confirmed", None, "SBP")
    entry = db_session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "card_topup")).one()
    assert entry.description == "Paid by SBP" or entry.description == "Оплата: SBP"
    assert entry.params == {"kind": "provider_payment", "method": "SBP"}
