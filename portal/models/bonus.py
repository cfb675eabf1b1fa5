from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base


class BonusAccount(Base):
    """Bonus points of an account (the money issue adds their history)."""

    __tablename__ = "bonus_account"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    points: Mapped[int] = mapped_column(default=0)
