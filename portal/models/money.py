from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class LedgerEntry(Base):
    """An immutable money movement; ``Account.balance`` is their sum."""

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("ix_ledger_entry_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    amount: Mapped[int]  # kopecks, + income, - expense
    kind: Mapped[str] = mapped_column(String(24))
    # A retried request carries the same key and finds the entry already made.
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    related_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    # The operation code a person reads out over the phone (portal.domain.receipts.codes): 8 characters of an
    # unambiguous alphabet, random; set for what a customer does (top-ups, transfers…), null for billing charges.
    code: Mapped[str | None] = mapped_column(String(8), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")  # in the operator's language
    # The line's kind and values (portal.domain.statement), to show it in the reader's language.
    params: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
