from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class BonusAccount(Base):
    """Bonus points of an account; ``points`` is the sum of its bonus entries."""

    __tablename__ = "bonus_account"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    points: Mapped[int] = mapped_column(default=0)


class BonusEntry(Base):
    """One change of points: earned on charges, spent on a reward, sent or received."""

    __tablename__ = "bonus_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    points: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # earned | spent | transfer_in | transfer_out | adjustment
    description: Mapped[str] = mapped_column(String(200), default="")  # in the operator's language
    params: Mapped[dict | None] = mapped_column(JSON)  # kind and values, see portal.domain.statement
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reward(Base):
    """What points buy: a package of minutes, SMS or megabytes, or money off the next charges."""

    __tablename__ = "reward"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(12))  # minutes | sms | data_mb | discount
    quantity: Mapped[int]  # minutes, messages, MB, or kopecks for a discount
    cost: Mapped[int]  # points
    archived: Mapped[bool] = mapped_column(default=False)
