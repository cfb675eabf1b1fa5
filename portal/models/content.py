from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class ContentBan(Base):
    """The line refuses new paid subscriptions started by content providers (issue 18, point 4): a row while on.

    Free, switched by the customer; subscriptions the customer connects in the portal are not refused."""

    __tablename__ = "content_ban"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)


class ContentRefusal(Base):
    """A content provider's attempt to subscribe a banned line: listed for the customer, kept for disputes."""

    __tablename__ = "content_refusal"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    provider: Mapped[str] = mapped_column(String(60))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    service_code: Mapped[str] = mapped_column(String(40))
    request_key: Mapped[str] = mapped_column(String(64), unique=True)  # the provider's request: asked twice, one row
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)


class CodeWord(Base):
    """The customer's code word for calls to support (issue 18, point 3): only its hash is kept; staff check an
    answer against it and never see it."""

    __tablename__ = "code_word"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    word_hash: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
