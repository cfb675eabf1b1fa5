from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base


class UsageRecord(Base):
    """One call detail record. Millions per region: always read by (account, started)."""

    __tablename__ = "usage_record"
    __table_args__ = (Index("ix_usage_record_account_started", "account_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    started_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(12))  # call_out | call_in | call_missed | sms | mms | data
    counterpart: Mapped[str] = mapped_column(String(64), default="")
    quantity: Mapped[int] = mapped_column(default=0)  # seconds for calls, KB for data, 1 for messages
    cost: Mapped[int] = mapped_column(default=0)  # kopecks
