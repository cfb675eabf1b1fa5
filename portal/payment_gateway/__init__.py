"""Payment providers: one protocol around a hosted payment page, and the development backend.

The portal never sees a card number. It creates a payment at the provider and sends the customer to the
provider's page (or shows a QR payload); the provider's webhook and a status request confirm it. A saved method
(the provider's token) pays without the customer: auto-payments and one-tap top-ups.
"""
import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

PENDING, SUCCEEDED, CANCELED = "pending", "succeeded", "canceled"
# How the customer pays a hosted payment: a card on the provider's page, or the Faster Payments System (СБП)
# in their bank's app (a link on a phone, a QR code on a desktop).
CARD, SBP = "card", "sbp"


@dataclass(frozen=True)
class Confirmation:
    """How the customer confirms a created payment: a redirect to the provider's page, or a QR payload (SBP)."""

    kind: str  # redirect | qr
    url: str | None = None  # the page to send the customer to (redirect), or the bank app's link (qr)
    qr_payload: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What the provider passes on to the fiscal receipt (54-FZ): the customer's contact and the one item."""

    phone: str | None
    item: str
    amount: int  # kopecks


@dataclass(frozen=True)
class FiscalReceipt:
    """The fiscal receipt (54-FZ) the provider registered for a payment, when it tells: the fiscal drive's number
    (ФН), the fiscal document's number (ФД), its fiscal sign (ФПД), and where the receipt can be read. It often
    comes later than the payment (portal.domain.payments.record_fiscal_receipt)."""

    fn: str | None = None
    fd: str | None = None
    fpd: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class PaymentState:
    """The provider's word on one payment."""

    reference: str
    status: str  # pending | succeeded | canceled
    cancel_reason: str | None = None
    method_title: str | None = None  # what the customer recognises the method by: "card *4242", "SBP"
    card_last4: str | None = None
    saved_token: str | None = None  # when saving the method was asked and granted
    confirmation: Confirmation | None = None  # while pending: where the customer confirms it
    expires_at: datetime | None = None  # while pending: when the provider gives up on it (naive UTC)
    fiscal: FiscalReceipt | None = None  # the fiscal receipt, when the provider tells it with the payment


class ProviderUnavailable(Exception):
    """The provider did not answer (timeout, outage, an error answer): ask again later with the same key.

    ``retry_after``: the seconds the provider asked us to wait (a 429's Retry-After), when it said."""

    def __init__(self, message: str = "", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PaymentProvider(Protocol):
    name: str  # stored with each payment: which provider holds its reference

    def create_payment(self, *, amount: int, description: str, idempotence_key: str, return_url: str,
                       receipt: Receipt | None, save_method: bool, method: str = CARD) -> PaymentState:
        """A new payment, pending with a confirmation (``method`` CARD: a redirect; SBP: a QR payload and the bank
        app's link, or a redirect when the provider has no payload). The same key again answers the same payment."""

    def status(self, reference: str) -> PaymentState:
        """The provider's current word on a payment. Raises ProviderUnavailable when it cannot say."""

    def charge_saved(self, *, amount: int, token: str, description: str, idempotence_key: str,
                     receipt: Receipt | None = None) -> PaymentState:
        """Charge a saved method with no customer present. The same key again answers the same payment.
        ``receipt``: the fiscal receipt's data as for create_payment (its ``item`` may be empty: the provider's
        configured item)."""

    def notified_reference(self, body: bytes) -> str | None:
        """The payment a webhook body names (nothing else in it is believed: the caller asks status())."""


class ProviderNotConfigured(Exception):
    """No payment provider is configured: card payments are unavailable."""


def provider_from_config(config, session) -> PaymentProvider:
    """The configured provider; ``session`` is for the development provider's own tables."""
    name = config["PAYMENT_PROVIDER"]
    if name == "dev":
        from datetime import timedelta

        from portal.payment_gateway.dev import DevProvider

        return DevProvider(session, sbp_expires=timedelta(seconds=config["PAYMENT_DEV_SBP_SECONDS"]))
    if name == "yookassa":
        from portal.payment_gateway.yookassa import YooKassaProvider

        return YooKassaProvider.from_config(config)
    if not name:
        raise ProviderNotConfigured()
    raise RuntimeError(f"Unknown PAYMENT_PROVIDER {name!r}")


def sender_allowed(address: str | None, networks) -> bool:
    """Whether a webhook's sender is in the provider's networks (PAYMENT_WEBHOOK_ALLOWED_NETS; none: no check)."""
    if not networks:
        return True
    try:
        sender = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(sender in ipaddress.ip_network(net, strict=False) for net in networks)
