from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class WebSms(Base):
    """An SMS a customer sent from the site: what it cost, and the outbox message that carries it.

    The per-hour and per-day limits are counted here, by (account, created).
    """

    __tablename__ = "web_sms"
    __table_args__ = (Index("ix_web_sms_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    sms_message_id: Mapped[int] = mapped_column(ForeignKey("sms_message.id"))
    to: Mapped[str] = mapped_column(String(16))
    encoding: Mapped[str] = mapped_column(String(8))  # gsm7 | ucs2
    parts: Mapped[int]
    from_allowance: Mapped[int] = mapped_column(default=0)  # parts taken from the tariff's package
    cost: Mapped[int] = mapped_column(default=0)  # kopecks debited for the rest
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped["SmsMessage"] = relationship()  # noqa: F821
