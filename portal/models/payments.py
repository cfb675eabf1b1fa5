from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class CardPayment(Base):
    """A top-up through the payment provider: created → pending (on the provider's page, or in the payer's bank app
    for СБП) → confirmed | declined (``decline_reason`` "expired" when the time to pay ran out).

    The balance moves only when it becomes confirmed, once (the ledger entry's key is the payment's). The portal
    never sees a card number: the provider tells the method's title and last 4 digits.
    """

    __tablename__ = "card_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)  # the id in URLs; not guessable
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    login_id: Mapped[int | None] = mapped_column(ForeignKey("login.id"))
    amount: Mapped[int]  # kopecks
    status: Mapped[str] = mapped_column(String(16), default="created")
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)  # also the provider's idempotence key
    provider: Mapped[str] = mapped_column(String(20), default="")  # which provider holds gateway_ref
    gateway_ref: Mapped[str | None] = mapped_column(String(80), unique=True)  # the provider's payment id
    confirmation_url: Mapped[str | None] = mapped_column(String(500))  # the provider's page, while pending
    method: Mapped[str] = mapped_column(String(8), default="card")  # card | sbp (how the customer chose to pay)
    # СБП while pending: what the QR code says (the bank-app link is confirmation_url), and when the provider
    # gives up on the payment.
    qr_payload: Mapped[str | None] = mapped_column(String(1000))
    expires_at: Mapped[datetime | None]
    asked_at: Mapped[datetime | None]  # when the provider was last asked for its state by a waiting page
    card_token_id: Mapped[int | None] = mapped_column(ForeignKey("card_token.id"))  # the saved method charged
    card_last4: Mapped[str | None] = mapped_column(String(4))
    method_title: Mapped[str | None] = mapped_column(String(60))  # the provider's words: "card *4242", "SBP"
    save_card: Mapped[bool] = mapped_column(default=False)  # the customer asked to save the method
    decline_reason: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    # The fiscal receipt (54-FZ) the provider had registered, when it tells: the fiscal drive's number (ФН), the
    # document's number (ФД), its fiscal sign (ФПД) and where the receipt can be read.
    fiscal_fn: Mapped[str | None] = mapped_column(String(20))
    fiscal_fd: Mapped[str | None] = mapped_column(String(12))
    fiscal_fpd: Mapped[str | None] = mapped_column(String(12))
    fiscal_url: Mapped[str | None] = mapped_column(String(500))


class CardToken(Base):
    """A saved payment method: the provider's token and what the customer recognises it by."""

    __tablename__ = "card_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("login.id"), index=True)
    gateway_token: Mapped[str] = mapped_column(String(80), unique=True)
    last4: Mapped[str] = mapped_column(String(4))
    expiry: Mapped[str] = mapped_column(String(5))  # MM/YY
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AutoPayment(Base):
    """A standing top-up from a saved card: when the balance falls below a threshold, or monthly on a day."""

    __tablename__ = "auto_payment"
    # The billing run reads only the rules due (portal.domain.autopay.due_rule_ids).
    __table_args__ = (Index("ix_auto_payment_due", "enabled", "kind", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("login.id"))
    card_token_id: Mapped[int] = mapped_column(ForeignKey("card_token.id"))
    kind: Mapped[str] = mapped_column(String(12))  # threshold | monthly
    threshold: Mapped[int | None]  # kopecks, for threshold rules
    day: Mapped[int | None]  # 1–28, for monthly rules
    amount: Mapped[int]  # kopecks
    enabled: Mapped[bool] = mapped_column(default=True)
    failures: Mapped[int] = mapped_column(default=0)  # in a row; the rule turns itself off after too many
    last_run_on: Mapped[str | None] = mapped_column(String(10))  # the billing day it last ran, ISO
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    card: Mapped["CardToken"] = relationship()
