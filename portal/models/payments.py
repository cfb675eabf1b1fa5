from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class CardPayment(Base):
    """A top-up by bank card: created → confirmed | declined, or → awaiting_3ds first.

    The balance moves only when it becomes confirmed, once (the ledger entry's key
    is the payment's). No card number or CVC is ever stored: only the last 4 digits.
    """

    __tablename__ = "card_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)  # the id in URLs; not guessable
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    login_id: Mapped[int | None] = mapped_column(ForeignKey("login.id"))
    amount: Mapped[int]  # kopecks
    status: Mapped[str] = mapped_column(String(16), default="created")
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    gateway_ref: Mapped[str | None] = mapped_column(String(80), unique=True)
    card_last4: Mapped[str] = mapped_column(String(4))
    save_card: Mapped[bool] = mapped_column(default=False)
    decline_reason: Mapped[str | None] = mapped_column(String(120))
    three_ds_failures: Mapped[int] = mapped_column(default=0)  # wrong codes typed on the bank's page
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class CardToken(Base):
    """A saved card: the gateway's token and what the customer recognises it by."""

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
