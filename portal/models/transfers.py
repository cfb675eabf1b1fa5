from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class Transfer(Base):
    """Money sent from one of our numbers to another.

    pending_code (waiting for the SMS code, for large amounts) → done | cancelled.
    Done means both ledger entries exist; they are written in one transaction.
    """

    __tablename__ = "transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    from_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    to_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    amount: Mapped[int]  # kopecks
    fee: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    code_hash: Mapped[str | None] = mapped_column(String(255))
    code_attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
