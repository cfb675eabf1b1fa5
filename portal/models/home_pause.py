"""Home contracts: the holiday pause and the tariff change that waits for the next billing period."""
from datetime import date, datetime, timedelta

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class HomePause(Base):
    """A voluntary block of a home contract for 7 to 90 days at the tariff's reduced fee.

    The contract is paused from ``start_on`` and works again on ``resume_on`` (the day after the last
    paused day). ``status``: scheduled (starts later), active, ended (on time or early), cancelled
    (ended before it started).
    """

    __tablename__ = "home_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    start_on: Mapped[date]
    resume_on: Mapped[date]
    # The reduced monthly fee shown when the pause was confirmed, in kopecks (the tariff's at that moment).
    monthly_fee: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_on: Mapped[date | None]

    @property
    def last_day(self) -> date:
        return self.resume_on - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.resume_on - self.start_on).days


class ScheduledTariffChange(Base):
    """A tariff change that takes effect at the start of the contract's next billing period.

    ``status``: scheduled, applied (by the billing run), cancelled (by the customer).
    """

    __tablename__ = "scheduled_tariff_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    tariff_id: Mapped[int] = mapped_column(ForeignKey("tariff.id"))
    effective_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]

    tariff: Mapped["Tariff"] = relationship()  # noqa: F821
