from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class SocialAccount(Base):
    """An outside sign-in account (VK ID, Yandex ID…) linked to a login by its owner (issue 18, point 8).

    The provider's subject is its stable user id; one provider account opens one login, and a login has at most one
    account per provider. ``shown`` is what the owner sees to recognise it (a masked e-mail or name)."""

    __tablename__ = "social_account"
    __table_args__ = (UniqueConstraint("provider", "subject"), UniqueConstraint("login_id", "provider"))

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("login.id"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(255))
    shown: Mapped[str] = mapped_column(String(120), default="")
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
