"""Top-ups by bank card: the payment's states and the one ledger entry a confirmation makes."""
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import idempotency
from portal.domain.accounts import lock_account
from portal.domain.audit import SYSTEM, Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.money import BadAmount
from portal.domain.promised import pay_in, repaid_from
from portal.models import Account, AccountStatus, CardPayment, CardToken
from portal.payment_gateway import WRONG_3DS_CODE, Card, CardGateway, Charge, GatewayUnavailable

DECIDED = ("confirmed", "declined")
# Not decided yet: reconciliation asks the gateway about these once they are a few minutes old.
UNSETTLED = ("created", "awaiting_3ds")
DECIDED_CHARGES = ("succeeded", "declined")


class BadCard(DomainError):
    """The card details cannot be right; ``field`` says which."""


@dataclass(frozen=True)
class TopupLimits:
    minimum: int
    maximum: int


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# As printed on the card, as typed on a phone: "12/29", "12 29", "12-29", "1/29", or the four digits "1229".
EXPIRY = re.compile(r"^(?:(\d{1,2})\s*[/\-. ]\s*(\d{2})|(\d{2})(\d{2}))$")


def parse_card(number: str, expiry: str, cvc: str, *, today: date) -> Card:
    """Digits only, a valid check digit, an expiry in the future, a 3–4 digit CVC."""
    digits = "".join(ch for ch in (number or "") if ch.isdigit())
    if not 13 <= len(digits) <= 19 or len(digits) != len((number or "").replace(" ", "").replace("-", "")) \
            or not luhn_ok(digits):
        raise BadCard(_l("Check the card number: 16 digits from the front of the card."), field="card_number")
    written = EXPIRY.match((expiry or "").strip())
    month = int(written.group(1) or written.group(3)) if written else 0
    if not 1 <= month <= 12:
        raise BadCard(_l("The expiry date is written as MM/YY, for example 08/28."), field="expiry")
    year = 2000 + int(written.group(2) or written.group(4))
    expiry = f"{month:02d}/{year % 100:02d}"
    if (year, month) < (today.year, today.month):
        raise BadCard(_l("This card has expired."), field="expiry")
    cvc = (cvc or "").strip()
    if not (cvc.isdigit() and len(cvc) in (3, 4)):
        raise BadCard(_l("The CVC is the 3 digits on the back of the card."), field="cvc")
    return Card(number=digits, expiry=expiry, cvc=cvc)


def top_up_by_card(session: Session, gateway: CardGateway, *, account_id: int, login_id: int | None, amount: int,
                   card: Card, save_card: bool, idempotency_key: str, limits: TopupLimits, actor: Actor,
                   now: datetime) -> CardPayment:
    """Create the payment, charge the card, apply the answer. A repeated submission charges nothing again."""
    if not limits.minimum <= amount <= limits.maximum:
        raise BadAmount(_l("From %(min)s to %(max)s at a time.", min=formatting.money(limits.minimum, whole=True),
                           max=formatting.money(limits.maximum, whole=True)))
    existing = session.scalar(select(CardPayment).where(CardPayment.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    account = session.get(Account, account_id)
    if account is None or account.status == AccountStatus.terminated.value:
        raise NotFound("account")
    if not idempotency.KEY_FORMAT.match(idempotency_key or ""):
        raise DomainError(_l("The form has expired. Reload the page and try again."))
    payment = CardPayment(token=secrets.token_urlsafe(18), account_id=account.id, login_id=login_id, amount=amount,
                          idempotency_key=idempotency_key, card_last4=card.last4, save_card=save_card,
                          created_at=now)
    session.add(payment)
    record(session, actor, "card_payment_started", obj=payment, detail=f"{amount} by card *{card.last4}")
    if not idempotency.commit_once(session):  # a twin of this submission got there first
        return session.scalar(select(CardPayment).where(CardPayment.idempotency_key == idempotency_key))
    # The payment row is committed before the card is charged: a crash in between leaves a trace to reconcile.
    charge = gateway.charge(amount=amount, card=card, description=f"Top-up {payment.token}", save_card=save_card)
    _remember_reference(session, payment.id, charge.reference)
    return apply_charge(session, payment_id=payment.id, charge=charge, actor=actor, now=now)


def top_up_with_saved_card(session: Session, gateway: CardGateway, *, account_id: int, login_id: int,
                           card_token_id: int, amount: int, idempotency_key: str, limits: TopupLimits, actor: Actor,
                           now: datetime) -> CardPayment:
    """A top-up from one of the login's saved cards, through the gateway's token flow (no card details typed)."""
    if not limits.minimum <= amount <= limits.maximum:
        raise BadAmount(_l("From %(min)s to %(max)s roubles at a time.", min=limits.minimum // 100,
                           max=limits.maximum // 100))
    card = session.get(CardToken, card_token_id)
    if card is None or card.login_id != login_id:
        raise BadCard(_l("Choose one of your saved cards."), field="card")
    account = session.get(Account, account_id)
    if account is None or account.status == AccountStatus.terminated.value:
        raise NotFound("account")
    if not idempotency.KEY_FORMAT.match(idempotency_key or ""):
        raise DomainError(_l("The form has expired. Reload the page and try again."))
    return top_up_by_saved_card(session, gateway, account_id=account.id, card=card, amount=amount,
                                idempotency_key=idempotency_key, actor=actor, now=now, purpose="Top-up")


def top_up_by_saved_card(session: Session, gateway: CardGateway, *, account_id: int, card: CardToken, amount: int,
                         idempotency_key: str, actor: Actor, now: datetime, purpose: str = "Auto") -> CardPayment:
    """A payment from a saved card (an auto-payment unless ``purpose`` says otherwise): the same states and
    ledger entry as a top-up."""
    existing = session.scalar(select(CardPayment).where(CardPayment.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    payment = CardPayment(token=secrets.token_urlsafe(18), account_id=account_id, login_id=card.login_id,
                          amount=amount, idempotency_key=idempotency_key, card_last4=card.last4, created_at=now)
    session.add(payment)
    record(session, actor, "card_payment_started", obj=payment, account_id=account_id,
           detail=f"{amount} by saved card *{card.last4}")
    if not idempotency.commit_once(session):
        return session.scalar(select(CardPayment).where(CardPayment.idempotency_key == idempotency_key))
    charge = gateway.charge_saved(amount=amount, card_token=card.gateway_token,
                                  description=f"{purpose} {payment.token}")
    _remember_reference(session, payment.id, charge.reference)
    return apply_charge(session, payment_id=payment.id, charge=charge, actor=actor, now=now)


def _remember_reference(session: Session, payment_id: int, reference: str) -> None:
    """Keep the gateway's reference before its answer is applied (which waits for the account's row): if that
    wait is cut short (busy, a crash), reconciliation still finds the payment at the gateway."""
    if reference:
        session.execute(update(CardPayment).where(CardPayment.id == payment_id, CardPayment.gateway_ref.is_(None))
                        .values(gateway_ref=reference))
        session.commit()


def apply_charge(session: Session, *, payment_id: int, charge: Charge, actor: Actor, now: datetime) -> CardPayment:
    """Record the gateway's answer; a confirmation moves the money once, however often it arrives."""
    # Locks in the house order, account then payment, so concurrent confirmations queue up.
    account_id = session.scalar(select(CardPayment.account_id).where(CardPayment.id == payment_id))
    account = lock_account(session, account_id)
    payment = session.get(CardPayment, payment_id, with_for_update=True, populate_existing=True)
    # Confirmed is final. Declined is not, against a later success: a 3-D Secure step the bank first
    # answered "declined" can still succeed, and the money has then left the card (the entry's key keeps
    # the credit to one).
    if payment.status == "confirmed" or (payment.status == "declined" and charge.status != "succeeded"):
        session.rollback()
        return payment
    payment.gateway_ref = charge.reference or payment.gateway_ref
    if charge.status == "succeeded":
        pay_in(session, account, amount=payment.amount, kind="card_topup", key=f"card:{payment.id}",
               description=_l("Card *%(last4)s", last4=payment.card_last4), now=now)
        payment.status, payment.decided_at, payment.decline_reason = "confirmed", now, None
        if charge.card_token and payment.save_card and payment.login_id:
            session.add(CardToken(login_id=payment.login_id, gateway_token=charge.card_token,
                                  last4=payment.card_last4, expiry="", created_at=now))
        record(session, actor, "card_topup", obj=payment, account_id=account.id, detail=str(payment.amount))
    elif charge.status == "declined":
        payment.status, payment.decided_at = "declined", now
        payment.decline_reason = charge.decline_reason
        record(session, actor, "card_payment_declined", obj=payment, account_id=account.id,
               detail=charge.decline_reason or "")
    else:
        payment.status = "awaiting_3ds"
    idempotency.commit_once(session)
    return payment


def repaid_by(session: Session, payment: CardPayment) -> int:
    """The part of a confirmed payment that repaid a promised payment (0 if none)."""
    return repaid_from(session, f"card:{payment.id}") if payment.status == "confirmed" else 0


def payment_of_login(session: Session, *, token: str, account_ids: list[int]) -> CardPayment:
    payment = session.scalar(select(CardPayment).where(CardPayment.token == (token or "")[:40]))
    if payment is None or payment.account_id not in account_ids:
        raise NotFound("payment")
    return payment


THREE_DS_TRIES = 3  # codes the cardholder may type before the payment fails


class WrongCode(DomainError):
    field = "code"


def confirm_3ds(session: Session, gateway: CardGateway, *, payment: CardPayment, code: str, actor: Actor,
                now: datetime) -> CardPayment:
    """The cardholder's code from the bank's page; the gateway decides. A wrong code may be typed again, 3 tries."""
    if payment.status != "awaiting_3ds":
        return payment
    charge = gateway.confirm_3ds(reference=payment.gateway_ref, code=(code or "")[:12])
    if charge.status == "declined" and charge.decline_reason == WRONG_3DS_CODE:
        # The house lock order, account then payment (as apply_charge), taken after the gateway answered.
        session.get(Account, payment.account_id, with_for_update=True, populate_existing=True)
        locked = session.get(CardPayment, payment.id, with_for_update=True, populate_existing=True)
        if locked.status != "awaiting_3ds":
            session.rollback()
            return locked
        locked.three_ds_failures += 1
        left = THREE_DS_TRIES - locked.three_ds_failures
        if left > 0:
            record(session, actor, "card_3ds_wrong_code", obj=locked, account_id=locked.account_id,
                   detail=f"{left} left")
            session.commit()
            raise WrongCode(lazy_ngettext("Wrong code. %(num)d try left.", "Wrong code. %(num)d tries left.", left))
    return apply_charge(session, payment_id=payment.id, charge=charge, actor=actor, now=now)


def gateway_notification(session: Session, *, reference: str, status: str, decline_reason: str | None,
                         actor: Actor, now: datetime) -> CardPayment:
    """The gateway's own word on a payment (its callback); arriving twice changes nothing twice."""
    payment = session.scalar(select(CardPayment).where(CardPayment.gateway_ref == (reference or "")[:80]))
    if payment is None or status not in ("succeeded", "declined"):
        raise NotFound("payment")
    return apply_charge(session, payment_id=payment.id, charge=Charge(reference, status, decline_reason),
                        actor=actor, now=now)


@dataclass
class ReconcileReport:
    asked: int = 0
    confirmed: int = 0
    declined: int = 0
    undecided: int = 0
    unreachable: int = 0

    def __str__(self) -> str:
        return (f"{self.asked} unsettled payment(s) asked of the gateway: {self.confirmed} confirmed, "
                f"{self.declined} declined, {self.undecided} still undecided, {self.unreachable} not answered.")


def unsettled_ids(session: Session, *, older_than: datetime) -> list[int]:
    """Payments started before ``older_than`` and still not decided (a lost answer, an abandoned 3-D Secure page)."""
    return list(session.scalars(select(CardPayment.id).where(CardPayment.status.in_(UNSETTLED),
                                                             CardPayment.created_at < older_than)
                                .order_by(CardPayment.id)))


def reconcile(session: Session, gateway: CardGateway, *, older_than: datetime, now: datetime) -> ReconcileReport:
    """Ask the gateway about every unsettled payment and apply its answer (a success is credited once).

    No transaction is open while the gateway is asked: each answer is applied in its own short one.
    """
    report = ReconcileReport()
    ids = unsettled_ids(session, older_than=older_than)
    session.rollback()
    for payment_id in ids:
        payment = session.get(CardPayment, payment_id)
        reference, order = payment.gateway_ref, payment.token
        session.rollback()
        report.asked += 1
        try:
            charge = gateway.status(reference=reference, order=order)
        except GatewayUnavailable:
            report.unreachable += 1
            continue
        if charge.status not in DECIDED_CHARGES:
            report.undecided += 1
            continue
        decided = apply_charge(session, payment_id=payment_id, charge=charge, actor=SYSTEM, now=now)
        report.confirmed += decided.status == "confirmed"
        report.declined += decided.status == "declined"
    return report
