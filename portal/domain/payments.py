"""Top-ups through the payment provider's hosted page: the payment's states and the one ledger entry a
confirmation makes.

The portal never sees card data: it creates the payment at the provider, sends the customer to the provider's
page, and believes only the provider's answer to a status request (the webhook and the return page only make it
ask). No transaction is open while the provider is asked; each answer is applied in its own short one.

СБП (the Faster Payments System) is the same payment with another confirmation: a QR payload and the bank app's
link instead of a page, shown by the portal while it waits; such a payment expires within minutes. Past its
expiry, a provider that still says "pending" (or says canceled) makes it declined as "expired"; a later success
is still credited: the provider's word wins.
"""
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import idempotency
from portal.domain.accounts import lock_account
from portal.domain.audit import SYSTEM, Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.money import BadAmount
from portal.domain.promised import pay_in, repaid_from
from portal.models import Account, AccountStatus, CardPayment, CardToken
from portal.payment_gateway import (
    CANCELED,
    CARD,
    PENDING,
    SBP,
    SUCCEEDED,
    FiscalReceipt,
    PaymentProvider,
    PaymentState,
    ProviderUnavailable,
    Receipt,
)

DECIDED = ("confirmed", "declined")
# Not decided yet: reconciliation asks the provider about these once they are a few minutes old.
UNSETTLED = ("created", "pending")
METHODS = (CARD, SBP)
EXPIRED = "expired"  # the decline reason of a payment whose time to pay ran out
# What providers call it when they give up on an unpaid payment (ours, the development provider's; YooKassa's).
_EXPIRED_REASONS = (EXPIRED, "expired_on_confirmation")


class BadMethod(DomainError):
    """Not one of the customer's saved methods."""

    field = "card"


class BadPaymentMethod(DomainError):
    """Neither a card nor СБП."""

    field = "method"


class ProviderDown(DomainError):
    """The provider did not answer; the same form may be sent again (its key makes it the same payment)."""


@dataclass(frozen=True)
class TopupLimits:
    minimum: int
    maximum: int


def _check(session: Session, *, account_id: int, amount: int, idempotency_key: str, limits: TopupLimits) -> Account:
    if not limits.minimum <= amount <= limits.maximum:
        raise BadAmount(_l("From %(min)s to %(max)s at a time.", min=formatting.money(limits.minimum, whole=True),
                           max=formatting.money(limits.maximum, whole=True)))
    account = session.get(Account, account_id)
    if account is None or account.status == AccountStatus.terminated.value:
        raise NotFound("account")
    if not idempotency.KEY_FORMAT.match(idempotency_key or ""):
        raise DomainError(_l("The form has expired. Reload the page and try again."))
    return account


def _by_key(session: Session, key: str) -> CardPayment | None:
    return session.scalar(select(CardPayment).where(CardPayment.idempotency_key == key))


def start_topup(session: Session, provider: PaymentProvider, *, account_id: int, login_id: int | None, amount: int,
                save_method: bool, idempotency_key: str, limits: TopupLimits, return_url: Callable[[str], str],
                actor: Actor, now: datetime, receipt_item: str = "Top-up", method: str = CARD) -> CardPayment:
    """Create the payment here, then at the provider (pending: its page, or the payer's bank app for СБП, waits).

    The form's key is the provider's idempotence key too: a double click or a retry after the provider did not
    answer is the same payment, here and there. ``return_url(token)`` is where the provider sends the customer back;
    ``receipt_item`` names the fiscal receipt's one item (the customer's phone, when the account has a line).
    ``method`` is CARD or SBP; only a card is saved for next time.
    """
    existing = _by_key(session, idempotency_key)
    if existing is None:
        if method not in METHODS:
            raise BadPaymentMethod(_l("Choose how to pay: by card or through SBP."))
        account = _check(session, account_id=account_id, amount=amount, idempotency_key=idempotency_key,
                         limits=limits)
        existing = CardPayment(token=secrets.token_urlsafe(18), account_id=account.id, login_id=login_id,
                               amount=amount, idempotency_key=idempotency_key, provider=provider.name,
                               save_card=save_method and method == CARD, method=method, created_at=now)
        session.add(existing)
        record(session, actor, "card_payment_started", obj=existing, account_id=account.id,
               detail=str(amount) if method == CARD else f"{amount} by {method}")
        if not idempotency.commit_once(session):  # a twin of this submission got there first
            existing = _by_key(session, idempotency_key)
    if existing.status != "created" or existing.card_token_id is not None:
        return existing
    # Not at the provider yet (or its answer was lost): ask it, with the same key, and no transaction open.
    payment_id, token, amount, save = existing.id, existing.token, existing.amount, existing.save_card
    chosen = existing.method  # the first submission's, whatever a retry of the same form says
    account = session.get(Account, existing.account_id)
    receipt = Receipt(phone=receipt_phone(account), item=receipt_item, amount=amount)
    session.rollback()
    try:
        state = provider.create_payment(amount=amount, description=f"Top-up {token}", idempotence_key=idempotency_key,
                                        return_url=return_url(token), receipt=receipt, save_method=save,
                                        method=chosen)
    except ProviderUnavailable:
        raise ProviderDown(_l("The payment service is not answering. Try again in a minute: you will not be "
                              "charged twice.")) from None
    _remember(session, payment_id, state)
    if state.status != "pending":
        return apply_state(session, payment_id=payment_id, state=state, actor=actor, now=now)
    return session.get(CardPayment, payment_id, populate_existing=True)


def receipt_phone(account: Account) -> str | None:
    """The phone the fiscal receipt goes to: the line's number, else a home contract's contact phone."""
    if account.line is not None:
        return account.line.msisdn
    return account.home_contract.contact_phone if account.home_contract is not None else None


def _remember(session: Session, payment_id: int, state: PaymentState) -> None:
    """Keep the provider's reference and page (or QR payload) before anything else: a lost answer is found again
    by it."""
    confirmation = state.confirmation
    url = confirmation.url if confirmation else None
    payload = confirmation.qr_payload if confirmation and confirmation.kind == "qr" else None
    session.execute(update(CardPayment).where(CardPayment.id == payment_id, CardPayment.gateway_ref.is_(None))
                    .values(gateway_ref=state.reference, confirmation_url=url, qr_payload=payload,
                            expires_at=state.expires_at))
    session.execute(update(CardPayment).where(CardPayment.id == payment_id, CardPayment.status == "created")
                    .values(status="pending"))
    session.commit()


def top_up_with_saved_card(session: Session, provider: PaymentProvider, *, account_id: int, login_id: int,
                           card_token_id: int, amount: int, idempotency_key: str, limits: TopupLimits, actor: Actor,
                           now: datetime) -> CardPayment:
    """A one-tap top-up from one of the login's saved methods: the provider charges its token."""
    card = session.get(CardToken, card_token_id)
    if card is None or card.login_id != login_id:
        raise BadMethod(_l("Choose one of your saved cards."))
    account = _check(session, account_id=account_id, amount=amount, idempotency_key=idempotency_key, limits=limits)
    return top_up_by_saved_card(session, provider, account_id=account.id, card=card, amount=amount,
                                idempotency_key=idempotency_key, actor=actor, now=now, purpose="Top-up")


def top_up_by_saved_card(session: Session, provider: PaymentProvider, *, account_id: int, card: CardToken,
                         amount: int, idempotency_key: str, actor: Actor, now: datetime,
                         purpose: str = "Auto") -> CardPayment:
    """A payment from a saved method (an auto-payment unless ``purpose`` says otherwise): the same states and
    ledger entry as a top-up. If the provider does not answer it stays ``created``; reconciliation asks again
    with the same key, which the provider answers with the first charge if there was one."""
    existing = _by_key(session, idempotency_key)
    if existing is not None:
        return existing
    payment = CardPayment(token=secrets.token_urlsafe(18), account_id=account_id, login_id=card.login_id,
                          amount=amount, idempotency_key=idempotency_key, provider=provider.name,
                          card_token_id=card.id, card_last4=card.last4, created_at=now)
    session.add(payment)
    record(session, actor, "card_payment_started", obj=payment, account_id=account_id,
           detail=f"{amount} by saved card *{card.last4}")
    if not idempotency.commit_once(session):
        return _by_key(session, idempotency_key)
    return _charge_saved(session, provider, payment.id, actor=actor, now=now, purpose=purpose)


def _charge_saved(session: Session, provider: PaymentProvider, payment_id: int, *, actor: Actor, now: datetime,
                  purpose: str) -> CardPayment:
    payment = session.get(CardPayment, payment_id)
    card = session.get(CardToken, payment.card_token_id)
    amount, key, token, description = payment.amount, payment.idempotency_key, card.gateway_token, \
        f"{purpose} {payment.token}"
    # The receipt's item is the provider's configured one (PAYMENT_RECEIPT_ITEM).
    receipt = Receipt(phone=receipt_phone(session.get(Account, payment.account_id)), item="", amount=amount)
    session.rollback()
    try:
        state = provider.charge_saved(amount=amount, token=token, description=description, idempotence_key=key,
                                      receipt=receipt)
    except ProviderUnavailable:
        return session.get(CardPayment, payment_id, populate_existing=True)
    _remember(session, payment_id, state)
    return apply_state(session, payment_id=payment_id, state=state, actor=actor, now=now)


def apply_state(session: Session, *, payment_id: int, state: PaymentState, actor: Actor,
                now: datetime) -> CardPayment:
    """Record the provider's word; a success moves the money once, however often and in whatever order it
    arrives (webhook, return page, reconciliation). Past the payment's expiry, "still pending" declines it as
    expired (and a later success is still credited)."""
    # Locks in the house order, account then payment, so concurrent confirmations queue up.
    account_id = session.scalar(select(CardPayment.account_id).where(CardPayment.id == payment_id))
    account = lock_account(session, account_id)
    payment = session.get(CardPayment, payment_id, with_for_update=True, populate_existing=True)
    expired_now = state.status == PENDING and payment.status in UNSETTLED and payment.expires_at is not None \
        and payment.expires_at <= now
    # Confirmed is final. Declined is not, against a later success: the provider's word is what counts, and
    # the entry's key keeps the credit to one.
    if payment.status == "confirmed" or (payment.status == "declined" and state.status != SUCCEEDED) \
            or (state.status not in (SUCCEEDED, CANCELED) and not expired_now):
        session.rollback()
        return session.get(CardPayment, payment_id)
    payment.gateway_ref = payment.gateway_ref or state.reference or None
    payment.card_last4 = state.card_last4 or payment.card_last4
    payment.method_title = state.method_title or payment.method_title
    payment.confirmation_url = payment.qr_payload = None
    _keep_fiscal(payment, state.fiscal)
    if state.status == SUCCEEDED:
        if payment.method == SBP:
            description = _l("Paid through SBP")
        elif payment.card_last4:
            description = _l("Card *%(last4)s", last4=payment.card_last4)
        else:
            description = _l("Paid by %(method)s", method=payment.method_title or payment.provider)
        pay_in(session, account, amount=payment.amount, kind="card_topup", key=f"card:{payment.id}",
               description=description, now=now)
        payment.status, payment.decided_at, payment.decline_reason = "confirmed", now, None
        if state.saved_token and payment.save_card and payment.login_id and session.scalar(
                select(CardToken.id).where(CardToken.gateway_token == state.saved_token)) is None:
            session.add(CardToken(login_id=payment.login_id, gateway_token=state.saved_token,
                                  last4=payment.card_last4 or "", expiry="", created_at=now))
        record(session, actor, "card_topup", obj=payment, account_id=account.id, detail=str(payment.amount))
    else:
        payment.status, payment.decided_at = "declined", now
        payment.decline_reason = EXPIRED if expired_now or state.cancel_reason in _EXPIRED_REASONS \
            else state.cancel_reason
        record(session, actor, "card_payment_declined", obj=payment, account_id=account.id,
               detail=payment.decline_reason or "")
    idempotency.commit_once(session)
    return payment


def _keep_fiscal(payment: CardPayment, fiscal: FiscalReceipt | None) -> bool:
    """Copy what the provider said about the fiscal receipt (only what it said; a link only if it is a web page)."""
    if fiscal is None:
        return False
    changed = False
    for column, value, size in (("fiscal_fn", fiscal.fn, 20), ("fiscal_fd", fiscal.fd, 12),
                                ("fiscal_fpd", fiscal.fpd, 12), ("fiscal_url", fiscal.url, 500)):
        value = str(value).strip()[:size] if value else None
        if column == "fiscal_url" and value and not value.lower().startswith(("https://", "http://")):
            value = None
        if value and value != getattr(payment, column):
            setattr(payment, column, value)
            changed = True
    return changed


def record_fiscal_receipt(session: Session, *, payment_id: int, fiscal: FiscalReceipt, actor: Actor) -> CardPayment:
    """The provider's fiscal receipt of a confirmed payment, shown on its receipt page and PDF."""
    payment = session.get(CardPayment, payment_id, with_for_update=True, populate_existing=True)
    if payment is None:
        raise NotFound("payment")
    if payment.status == "confirmed" and _keep_fiscal(payment, fiscal):
        record(session, actor, "fiscal_receipt_recorded", obj=payment, account_id=payment.account_id,
               detail=f"FN {payment.fiscal_fn or '-'} FD {payment.fiscal_fd or '-'}")
        session.commit()
    else:
        session.rollback()
    return session.get(CardPayment, payment_id)


def refresh(session: Session, provider: PaymentProvider, *, payment_id: int, actor: Actor,
            now: datetime) -> CardPayment:
    """Ask the provider about an undecided payment and apply its word (the return page, the webhook). One declined
    as expired is asked too: the payer's bank may have paid at the last moment (the provider's word wins)."""
    payment = session.get(CardPayment, payment_id)
    reference, expires_at = payment.gateway_ref, payment.expires_at
    if payment.status == "confirmed" or (payment.status == "declined" and payment.decline_reason != EXPIRED) \
            or not reference:
        return payment
    session.rollback()
    state = provider.status(reference)  # ProviderUnavailable goes to the caller
    if state.status == PENDING and (expires_at is None or expires_at > now):
        return session.get(CardPayment, payment_id)  # nothing to record: no account lock for a waiting page's ask
    return apply_state(session, payment_id=payment_id, state=state, actor=actor, now=now)


def refresh_if_due(session: Session, provider: PaymentProvider, *, payment_id: int, every: timedelta, actor: Actor,
                   now: datetime) -> CardPayment:
    """``refresh``, unless the provider was asked about this payment less than ``every`` ago: a page polling every
    few seconds (in several tabs, on several workers) asks it once per period and otherwise shows what the webhook
    recorded."""
    claimed = session.execute(
        update(CardPayment)
        .where(CardPayment.id == payment_id, CardPayment.status.in_(UNSETTLED), CardPayment.gateway_ref.is_not(None),
               or_(CardPayment.asked_at.is_(None), CardPayment.asked_at <= now - every))
        .values(asked_at=now)).rowcount
    session.commit()
    if not claimed:
        return session.get(CardPayment, payment_id)
    return refresh(session, provider, payment_id=payment_id, actor=actor, now=now)


def ran_out(payment: CardPayment, now: datetime) -> bool:
    """The time to pay is over: declined as expired, or past the expiry while the provider has not said so yet."""
    if payment.status == "declined":
        return payment.decline_reason == EXPIRED
    return payment.status in UNSETTLED and payment.expires_at is not None and payment.expires_at <= now


class BadNotification(DomainError):
    """A webhook body that names no payment."""


def provider_notification(session: Session, provider: PaymentProvider, *, body: bytes, actor: Actor,
                          now: datetime) -> CardPayment:
    """The provider's webhook. Nothing in the body is believed but the payment's reference: the provider is asked
    for the payment's state, so a forged or replayed notification changes nothing."""
    reference = provider.notified_reference(body)
    if not reference:
        raise BadNotification("no payment in the notification")
    payment = session.scalar(select(CardPayment).where(CardPayment.gateway_ref == reference[:80],
                                                       CardPayment.provider == provider.name))
    if payment is None:
        raise NotFound("payment")
    return refresh(session, provider, payment_id=payment.id, actor=actor, now=now)


def refuse_notification(session: Session, *, actor: Actor, detail: str) -> None:
    """A notification from outside the provider's networks: nothing in it is applied, it is only recorded."""
    record(session, actor, "payment_webhook_refused", detail=detail[:200])
    session.commit()


def repaid_by(session: Session, payment: CardPayment) -> int:
    """The part of a confirmed payment that repaid a promised payment (0 if none)."""
    return repaid_from(session, f"card:{payment.id}") if payment.status == "confirmed" else 0


def payment_of_login(session: Session, *, token: str, account_ids: list[int]) -> CardPayment:
    payment = session.scalar(select(CardPayment).where(CardPayment.token == (token or "")[:40]))
    if payment is None or payment.account_id not in account_ids:
        raise NotFound("payment")
    return payment


@dataclass
class ReconcileReport:
    asked: int = 0
    confirmed: int = 0
    declined: int = 0
    undecided: int = 0
    unreachable: int = 0

    def __str__(self) -> str:
        return (f"{self.asked} unsettled payment(s) asked of the provider: {self.confirmed} confirmed, "
                f"{self.declined} declined, {self.undecided} still undecided, {self.unreachable} not answered.")


def unsettled_ids(session: Session, *, older_than: datetime) -> list[int]:
    """Payments started before ``older_than`` and still not decided (a lost answer, an abandoned page)."""
    return list(session.scalars(select(CardPayment.id).where(CardPayment.status.in_(UNSETTLED),
                                                             CardPayment.created_at < older_than)
                                .order_by(CardPayment.id)))


def reconcile(session: Session, provider: PaymentProvider, *, older_than: datetime,
              now: datetime) -> ReconcileReport:
    """Ask the provider about every unsettled payment and apply its answer (a success is credited once).

    A saved-method charge whose answer was lost is asked again with its key (the provider answers the first
    charge). A hosted-page payment the provider never answered never had a page the customer could pay on: it
    is declined.
    """
    report = ReconcileReport()
    ids = unsettled_ids(session, older_than=older_than)
    session.rollback()
    for payment_id in ids:
        payment = session.get(CardPayment, payment_id)
        reference, saved, provider_name = payment.gateway_ref, payment.card_token_id, payment.provider
        report.asked += 1
        if provider_name != provider.name:  # another provider's payment (the provider was changed): not ours to ask
            session.rollback()
            report.unreachable += 1
            continue
        if not reference and not saved:
            decided = apply_state(session, payment_id=payment_id, state=PaymentState("", CANCELED, "not_created"),
                                  actor=SYSTEM, now=now)
            report.declined += decided.status == "declined"
            continue
        try:
            if reference:
                session.rollback()
                decided = apply_state(session, payment_id=payment_id, state=provider.status(reference),
                                      actor=SYSTEM, now=now)
            else:
                decided = _charge_saved(session, provider, payment_id, actor=SYSTEM, now=now, purpose="Auto")
        except ProviderUnavailable:
            report.unreachable += 1
            continue
        report.confirmed += decided.status == "confirmed"
        report.declined += decided.status == "declined"
        report.undecided += decided.status not in DECIDED
    return report
