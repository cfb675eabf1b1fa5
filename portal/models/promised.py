from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class PromisedPayment(Base):
    """Credit given now and taken back from the next top-ups: open → repaid, or overdue after ``due_at``."""

    __tablename__ = "promised_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    amount: Mapped[int]  # kopecks credited
    fee: Mapped[int] = mapped_column(default=0)
    repaid: Mapped[int] = mapped_column(default=0)  # kopecks taken back so far
    status: Mapped[str] = mapped_column(String(12), default="open")
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    repaid_at: Mapped[datetime | None]

    @property
    def outstanding(self) -> int:
        return self.amount - self.repaid
