from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class AuditEvent(Base):
    """Who, acting as whom, did what to which object, when, from where."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_login_created", "login_id", "created_at"),
        Index("ix_audit_event_ip_action_created", "ip", "action", "created_at"),
        Index("ix_audit_event_account_created", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40))
    login_id: Mapped[int | None] = mapped_column(ForeignKey("login.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[str] = mapped_column(Text, default="")
