from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class AlertSettings(Base):
    """Which events send an SMS alert to a line, and the quiet hours. No row: the defaults below."""

    __tablename__ = "alert_settings"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    low_balance_below: Mapped[int | None]  # kopecks; None: no low-balance alert
    on_payment: Mapped[bool] = mapped_column(default=True)
    on_change: Mapped[bool] = mapped_column(default=True)  # tariff or service changed
    on_new_device: Mapped[bool] = mapped_column(default=True)
    on_every_login: Mapped[bool] = mapped_column(default=False)
    on_outages: Mapped[bool] = mapped_column(default=False)  # outages and works that affect the account
    # Minutes after local midnight; both None: no quiet hours. May wrap midnight (23:00–08:00).
    quiet_from: Mapped[int | None]
    quiet_to: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class HeldAlert(Base):
    """An alert that fell into quiet hours: sent when they end (by the alerts job)."""

    __tablename__ = "held_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    to: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    hold_until: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
