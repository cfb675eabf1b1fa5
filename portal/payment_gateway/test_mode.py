"""A deterministic gateway for development and tests: the card number decides the outcome."""
import hashlib
import hmac

from portal.payment_gateway import WRONG_3DS_CODE, Card, Charge

# The documented test cards (README "Payments"): any future expiry, any 3-digit CVC.
SUCCEEDS = "4242424242424242"
DECLINED = "4000000000000002"
NEEDS_3DS = "4000000000003220"
FAILS_LATER = "4000000000000341"  # paid and saved now; declined when charged again later
# The code the simulated bank page accepts.
THREE_DS_CODE = "1234"
# The letter after "test_" in a reference: what the card did when charged.
SUCCEEDED_MARK, DECLINED_MARK, ACTION_MARK = "s", "d", "a"


class TestModeGateway:
    __test__ = False  # not a pytest class

    def __init__(self, key: str):
        self.key = key.encode()

    def _reference(self, amount: int, card: Card, description: str, outcome: str) -> str:
        # Deterministic per (card, amount, description) so a retried request gets the same answer; the outcome's
        # letter after "test_" lets status() answer later without keeping any state.
        digest = hmac.new(self.key, f"{card.number}:{amount}:{description}".encode(), hashlib.sha256).hexdigest()
        return f"test_{outcome}{digest[:23]}"

    def charge(self, *, amount: int, card: Card, description: str, save_card: bool) -> Charge:
        if card.number == DECLINED:
            return Charge(self._reference(amount, card, description, DECLINED_MARK), "declined",
                          decline_reason="insufficient_funds")
        if card.number == NEEDS_3DS:
            return Charge(self._reference(amount, card, description, ACTION_MARK), "requires_action")
        if card.number in (SUCCEEDS, FAILS_LATER):
            reference = self._reference(amount, card, description, SUCCEEDED_MARK)
            suffix = "_fails" if card.number == FAILS_LATER else ""
            return Charge(reference, "succeeded", card_token=f"tok_{reference[5:]}{suffix}" if save_card else None)
        return Charge(self._reference(amount, card, description, DECLINED_MARK), "declined",
                      decline_reason="unknown_test_card")

    def confirm_3ds(self, *, reference: str, code: str) -> Charge:
        if hmac.compare_digest(code.strip(), THREE_DS_CODE):
            return Charge(reference, "succeeded")
        return Charge(reference, "declined", decline_reason=WRONG_3DS_CODE)

    def charge_saved(self, *, amount: int, card_token: str, description: str) -> Charge:
        digest = hmac.new(self.key, f"{card_token}:{amount}:{description}".encode(), hashlib.sha256).hexdigest()
        if card_token.endswith("_fails"):
            return Charge(f"test_{DECLINED_MARK}{digest[:23]}", "declined", decline_reason="card_declined")
        return Charge(f"test_{SUCCEEDED_MARK}{digest[:23]}", "succeeded")

    def status(self, *, reference: str | None, order: str) -> Charge:
        # The reference says what the card did (its letter); a 3-D Secure page still unfinished when asked was
        # abandoned, and a payment without a reference never reached the gateway.
        mark = (reference or "")[5:6]
        if mark == SUCCEEDED_MARK:
            return Charge(reference, "succeeded")
        if mark == DECLINED_MARK:
            return Charge(reference, "declined", decline_reason="card_declined")
        if mark == ACTION_MARK:
            return Charge(reference, "declined", decline_reason="3ds_abandoned")
        return Charge("", "declined", decline_reason="not_found")
