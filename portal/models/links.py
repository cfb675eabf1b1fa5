from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow
from portal.models.customers import Account


class LinkRequest(Base):
    """A login asks to manage more numbers: pending → approved | rejected | withdrawn.

    Staff review it within ``due_on`` (working days from the request, see domain.workdays).
    """

    __tablename__ = "link_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("login.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date]
    decided_at: Mapped[datetime | None]
    decided_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")  # why it was rejected

    numbers: Mapped[list["LinkRequestNumber"]] = relationship(back_populates="request",
                                                              order_by="LinkRequestNumber.account_id")


class LinkRequestNumber(Base):
    """One number a link request asks for."""

    __tablename__ = "link_request_number"

    request_id: Mapped[int] = mapped_column(ForeignKey("link_request.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, index=True)

    request: Mapped[LinkRequest] = relationship(back_populates="numbers")
    account: Mapped[Account] = relationship()
