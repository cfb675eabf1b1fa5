from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class DetailOrder(Base):
    """Call details ordered by e-mail: pending → sent | failed. One row per form submission (the key)."""

    __tablename__ = "detail_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("login.id"), index=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    kind: Mapped[str] = mapped_column(String(8), default="")  # "" (everything) | calls | sms | mms | data
    format: Mapped[str] = mapped_column(String(4))  # csv | pdf
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8), default="ru")  # the language of the file and the letter
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending | sent | failed
    error: Mapped[str | None] = mapped_column(String(300))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # While a worker builds and mails the file: no other worker or sweep sends it before this.
    claimed_until: Mapped[datetime | None]
