from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base


class UsageRecord(Base):
    """One call detail record. Millions per region: always read by (account, started)."""

    __tablename__ = "usage_record"
    # The roll-up and the retention read a range of days across all accounts: on PostgreSQL a BRIN index on the start
    # (records arrive roughly in time order, so a few KB index years of them), a B-tree elsewhere.
    __table_args__ = (Index("ix_usage_record_account_started", "account_id", "started_at"),
                      Index("ix_usage_record_started", "started_at", postgresql_using="brin"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    started_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(12))  # call_out | call_in | call_missed | sms | mms | data
    counterpart: Mapped[str] = mapped_column(String(64), default="")
    quantity: Mapped[int] = mapped_column(default=0)  # seconds for calls, KB for data, 1 for messages
    cost: Mapped[int] = mapped_column(default=0)  # kopecks
    # A home internet session's end and the address it was given; empty for everything else.
    ended_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))


class UsageDay(Base):
    """Usage of one account on one UTC day, per kind: what call-detail totals add up instead of raw records.

    Built for closed days by the nightly roll-up (domain.details.roll_up); ``UsageRollup`` says how far.
    """

    __tablename__ = "usage_day"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    cost: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageRollup(Base):
    """One row: every UTC day up to and including ``through`` is in ``usage_day``."""

    __tablename__ = "usage_rollup"

    id: Mapped[int] = mapped_column(primary_key=True)
    through: Mapped[date]
