"""Card payment gateways: one protocol and a deterministic test-mode gateway.

The portal hands the card to the gateway and keeps only what it answers: a
reference, a status, and for a saved card a token. Card numbers and CVCs are
never stored or logged.
"""
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Card:
    number: str  # digits only
    expiry: str  # MM/YY
    cvc: str

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def __repr__(self) -> str:  # never print the number or the CVC, even in a traceback
        return f"Card(*{self.last4})"


# The decline reason for a wrong code on the bank's 3-D Secure page: the portal lets the cardholder try again.
WRONG_3DS_CODE = "3ds_failed"


@dataclass(frozen=True)
class Charge:
    reference: str
    status: str  # succeeded | declined | requires_action
    decline_reason: str | None = None
    card_token: str | None = None  # when asked to save the card and it succeeded


class GatewayUnavailable(Exception):
    """The gateway did not answer (timeout, outage): ask again later."""


class CardGateway(Protocol):
    def charge(self, *, amount: int, card: Card, description: str, save_card: bool) -> Charge:
        """Charge the card; may answer requires_action (3-D Secure) instead of a decision."""

    def confirm_3ds(self, *, reference: str, code: str) -> Charge:
        """Finish a 3-D Secure step with the code the cardholder typed on the bank's page."""

    def charge_saved(self, *, amount: int, card_token: str, description: str) -> Charge:
        """Charge a saved card without the cardholder present (auto-payments): no 3-D Secure step."""

    def status(self, *, reference: str | None, order: str) -> Charge:
        """The gateway's current word on a payment (reconciliation), by its reference or, when its answer never
        reached us, by our order id (the payment's token, in the description): requires_action while undecided.
        Raises GatewayUnavailable when it cannot say."""


def gateway_from_config(config) -> CardGateway:
    from portal.payment_gateway.test_mode import TestModeGateway

    if config["PAYMENT_GATEWAY"] == "test":
        return TestModeGateway(config["SECRET_KEY"])
    raise RuntimeError(f"Unknown PAYMENT_GATEWAY {config['PAYMENT_GATEWAY']!r}")
