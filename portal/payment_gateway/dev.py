"""The development provider: a hosted payment page served by the portal itself under /dev (debug and tests only).

It behaves as a real provider does: ``create_payment`` answers a reference and the page to send the customer
to; the customer types a test card there (never on the portal's pages), maybe a 3-D Secure code; the provider
then decides, notifies the portal's webhook and sends the customer back to the return URL. Its state is its own
tables (``dev_payment``, ``dev_method``), so every process agrees.

СБП (method SBP): the answer is a QR payload and the bank app's link, both the provider's simulated "bank app"
page /dev/sbp/<reference> (the payload with the portal's origin, so a phone on the same network can open it),
where the payer approves or declines; unpaid, it expires after ``sbp_expires`` (10 minutes by default).
"""
import json
import re
import secrets
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain.errors import DomainError
from portal.models import DevMethod, DevPayment, utcnow
from portal.payment_gateway import CANCELED, CARD, PENDING, SBP, SUCCEEDED, Confirmation, PaymentState, Receipt

# The documented test cards (README "Payments (development)"): any future expiry, any 3-digit CVC.
SUCCEEDS = "4242424242424242"
DECLINED = "4000000000000002"
NEEDS_3DS = "4000000000003220"
FAILS_LATER = "4000000000000341"  # paid and saved now; declined when charged again later
THREE_DS_CODE = "1234"  # the code the simulated bank page accepts
THREE_DS_TRIES = 3  # codes the cardholder may type before the payment fails
PAGE = "/dev/pay/"  # the provider's page for a payment: PAGE + reference
SBP_PAGE = "/dev/sbp/"  # the simulated bank app where an СБП payment is approved: SBP_PAGE + reference
WAITING_3DS = "waiting_3ds"
EXPIRES = timedelta(hours=1)  # a page nobody finished is canceled after this, as real providers do
SBP_EXPIRES = timedelta(minutes=10)  # an СБП QR code is valid for minutes, not hours
SBP_TITLE = "SBP"  # the method's title in the provider's answers (the portal shows it in the reader's language)


class BadCard(DomainError):
    """The card details cannot be right; ``field`` says which."""


class WrongCode(DomainError):
    field = "code"


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


def check_card(number: str, expiry: str, cvc: str, *, today: date) -> str:
    """The card's digits, if the number's check digit, the expiry (in the future) and the 3–4 digit CVC are right."""
    digits = "".join(ch for ch in (number or "") if ch.isdigit())
    if not 13 <= len(digits) <= 19 or len(digits) != len((number or "").replace(" ", "").replace("-", "")) \
            or not luhn_ok(digits):
        raise BadCard(_l("Check the card number: 16 digits from the front of the card."), field="card_number")
    written = EXPIRY.match((expiry or "").strip())
    month = int(written.group(1) or written.group(3)) if written else 0
    if not 1 <= month <= 12:
        raise BadCard(_l("The expiry date is written as MM/YY, for example 08/28."), field="expiry")
    year = 2000 + int(written.group(2) or written.group(4))
    if (year, month) < (today.year, today.month):
        raise BadCard(_l("This card has expired."), field="expiry")
    cvc = (cvc or "").strip()
    if not (cvc.isdigit() and len(cvc) in (3, 4)):
        raise BadCard(_l("The CVC is the 3 digits on the back of the card."), field="cvc")
    return digits


def _expires_at(payment: DevPayment) -> datetime:
    """An СБП payment's own expiry; a card page's is an hour after it was made."""
    return payment.expires_at or payment.created_at + EXPIRES


def sbp_payload(payment: DevPayment, origin: str) -> str:
    """What the QR code says: the "bank app" page, shaped like an NSPK link (type 02: a one-off payment's code)."""
    return f"{origin}{SBP_PAGE}{payment.reference}?type=02&sum={payment.amount}&cur=RUB"


def _confirmation(payment: DevPayment) -> Confirmation:
    if payment.method != SBP:
        return Confirmation("redirect", url=PAGE + payment.reference)
    parts = urlsplit(payment.return_url or "")
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""
    return Confirmation("qr", url=SBP_PAGE + payment.reference, qr_payload=sbp_payload(payment, origin))


def _state(payment: DevPayment) -> PaymentState:
    status = {SUCCEEDED: SUCCEEDED, CANCELED: CANCELED}.get(payment.status, PENDING)
    last4 = payment.card_last4
    title = SBP_TITLE if payment.method == SBP else f"card *{last4}" if last4 else None
    return PaymentState(
        reference=payment.reference, status=status, cancel_reason=payment.cancel_reason,
        method_title=title, card_last4=last4,
        saved_token=payment.method_token if status == SUCCEEDED and payment.save_method else None,
        confirmation=_confirmation(payment) if status == PENDING else None,
        expires_at=_expires_at(payment) if status == PENDING else None)


class DevProvider:
    """The provider's side of the development flow, over the portal's database (its own tables)."""

    name = "dev"

    def __init__(self, session: Session, *, sbp_expires: timedelta = SBP_EXPIRES):
        self.session, self.sbp_expires = session, sbp_expires

    def _by_key(self, key: str) -> DevPayment | None:
        return self.session.scalar(select(DevPayment).where(DevPayment.idempotence_key == key))

    def _add(self, payment: DevPayment) -> DevPayment:
        """Keep a new payment; the same key twice at once keeps the first (as a provider's idempotence does)."""
        self.session.add(payment)
        try:
            self.session.commit()
        except IntegrityError:
            self.session.rollback()
            return self._by_key(payment.idempotence_key)
        return payment

    def create_payment(self, *, amount: int, description: str, idempotence_key: str, return_url: str,
                       receipt: Receipt | None, save_method: bool, method: str = CARD) -> PaymentState:
        if method not in (CARD, SBP):
            raise ValueError(f"unknown payment method {method!r}")
        now = utcnow()
        payment = self._by_key(idempotence_key) or self._add(DevPayment(
            reference="dev_" + secrets.token_urlsafe(18), idempotence_key=idempotence_key, amount=amount,
            description=description[:200], return_url=return_url[:500], save_method=save_method and method == CARD,
            method=method, created_at=now, expires_at=now + self.sbp_expires if method == SBP else None))
        return _state(payment)

    def status(self, reference: str) -> PaymentState:
        payment = self.session.scalar(select(DevPayment).where(DevPayment.reference == reference))
        if payment is None:
            return PaymentState(reference, CANCELED, cancel_reason="not_found")
        expire(self.session, payment, now=utcnow())
        return _state(payment)

    def charge_saved(self, *, amount: int, token: str, description: str, idempotence_key: str,
                     receipt: Receipt | None = None) -> PaymentState:
        payment = self._by_key(idempotence_key)
        if payment is None:
            method = self.session.scalar(select(DevMethod).where(DevMethod.token == token))
            declined = method is None or method.fails_later
            payment = self._add(DevPayment(
                reference="dev_" + secrets.token_urlsafe(18), idempotence_key=idempotence_key, amount=amount,
                description=description[:200], status=CANCELED if declined else SUCCEEDED,
                cancel_reason=("card_declined" if method else "method_not_found") if declined else None,
                card_last4=method.last4 if method else None, method_token=token, created_at=utcnow(),
                decided_at=utcnow()))
        return _state(payment)

    def notified_reference(self, body: bytes) -> str | None:
        try:
            reference = json.loads(body)["object"]["id"]
        except (ValueError, KeyError, TypeError):
            return None
        return reference if isinstance(reference, str) else None


# ---- the customer on the provider's page -----------------------------------------------------------------------

def payment_on_page(session: Session, reference: str) -> DevPayment | None:
    return session.scalar(select(DevPayment).where(DevPayment.reference == (reference or "")[:40]))


def expire(session: Session, payment: DevPayment, *, now: datetime) -> None:
    if payment.status in (PENDING, WAITING_3DS) and _expires_at(payment) <= now:
        _decide(payment, CANCELED, "expired", now)
        session.commit()


def webhook_body(payment: DevPayment) -> bytes:
    """What the provider posts to the portal's webhook when a payment is decided."""
    event = "payment.succeeded" if payment.status == SUCCEEDED else "payment.canceled"
    return json.dumps({"event": event, "object": {"id": payment.reference, "status": payment.status}}).encode()


def _decide(payment: DevPayment, status: str, reason: str | None, now: datetime) -> None:
    payment.status, payment.cancel_reason, payment.decided_at = status, reason, now


def pay_with_card(session: Session, payment: DevPayment, *, number: str, expiry: str, cvc: str,
                  now: datetime) -> DevPayment:
    """The card typed on the provider's page decides the outcome (the test cards); the number is not kept."""
    if payment.status != PENDING:
        return payment
    digits = check_card(number, expiry, cvc, today=now.date())
    payment.card_last4 = digits[-4:]
    if digits == NEEDS_3DS:
        payment.status = WAITING_3DS
    elif digits in (SUCCEEDS, FAILS_LATER):
        _succeed(session, payment, fails_later=digits == FAILS_LATER, now=now)
    else:
        _decide(payment, CANCELED, "insufficient_funds" if digits == DECLINED else "unknown_test_card", now)
    session.commit()
    return payment


def _succeed(session: Session, payment: DevPayment, *, fails_later: bool, now: datetime) -> None:
    _decide(payment, SUCCEEDED, None, now)
    if payment.save_method:
        payment.method_token = "dev_tok_" + secrets.token_urlsafe(18)
        session.add(DevMethod(token=payment.method_token, last4=payment.card_last4, fails_later=fails_later,
                              created_at=now))


def confirm_3ds(session: Session, payment: DevPayment, *, code: str, now: datetime) -> DevPayment:
    """The bank's code: the right one pays; a wrong one may be typed again, three tries in all."""
    if payment.status != WAITING_3DS:
        return payment
    if secrets.compare_digest((code or "").strip()[:12], THREE_DS_CODE):
        _succeed(session, payment, fails_later=False, now=now)
        session.commit()
        return payment
    payment.three_ds_failures += 1
    left = THREE_DS_TRIES - payment.three_ds_failures
    if left <= 0:
        _decide(payment, CANCELED, "3ds_failed", now)
    session.commit()
    if left > 0:
        raise WrongCode(lazy_ngettext("Wrong code. %(num)d try left.", "Wrong code. %(num)d tries left.", left))
    return payment


def answer_in_bank_app(session: Session, payment: DevPayment, *, approve: bool, now: datetime) -> DevPayment:
    """The payer in their bank's app (СБП): approving pays at once (no card, no code); declining cancels."""
    if payment.method == SBP and payment.status == PENDING:
        if approve:
            _decide(payment, SUCCEEDED, None, now)
        else:
            _decide(payment, CANCELED, "canceled_by_customer", now)
        session.commit()
    return payment


def cancel(session: Session, payment: DevPayment, *, now: datetime) -> DevPayment:
    """The customer gave up on the provider's page ("back to the shop")."""
    if payment.status in (PENDING, WAITING_3DS):
        _decide(payment, CANCELED, "canceled_by_customer", now)
        session.commit()
    return payment


def save_method(session: Session, *, token: str, last4: str, now: datetime) -> None:
    """A saved card the provider knows (the demo's cards, made without a payment)."""
    if session.scalar(select(DevMethod.id).where(DevMethod.token == token)) is None:
        session.add(DevMethod(token=token, last4=last4, created_at=now))
