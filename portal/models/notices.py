from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class ServiceNotice(Base):
    """An outage or planned works staff publish for the customers it affects (portal.domain.notices).

    ``scope`` says who: ``mobile`` (every mobile line), ``region`` (every account of the region in
    ``scope_value``), ``connection`` (home contracts of the connection type in ``scope_value``) or ``address``
    (home contracts whose address starts with the building in ``scope_value``, see notices.scope).
    """

    __tablename__ = "service_notice"
    __table_args__ = (
        CheckConstraint("kind in ('outage', 'works')", name="kind"),
        CheckConstraint("scope in ('mobile', 'region', 'connection', 'address')", name="scope"),
        # The dashboards and the status page read the notices not yet over, and those over lately.
        Index("ix_service_notice_open_ended", "open", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # outage | works
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(String(2000), default="")
    scope: Mapped[str] = mapped_column(String(12))
    scope_value: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime]
    expected_end: Mapped[datetime | None]
    # outage: investigating → fixing → resolved; works: scheduled → in_progress → done
    state: Mapped[str] = mapped_column(String(16))
    open: Mapped[bool] = mapped_column(default=True)  # False once resolved or done
    ended_at: Mapped[datetime | None]
    published_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The SMS phase (start | end) the notice job last finished: the sweep hands the notice out again until then.
    sms_done: Mapped[str | None] = mapped_column(String(8))

    updates: Mapped[list["ServiceNoticeUpdate"]] = relationship(
        back_populates="notice", order_by="ServiceNoticeUpdate.id.desc()")


class ServiceNoticeUpdate(Base):
    """What staff said about a notice at one time, and the state it moved to (if it moved)."""

    __tablename__ = "service_notice_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("service_notice.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(String(1000), default="")
    state_from: Mapped[str | None] = mapped_column(String(16))
    state_to: Mapped[str | None] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    notice: Mapped[ServiceNotice] = relationship(back_populates="updates")


class NoticeSms(Base):
    """One SMS about one notice phase to one account: the primary key makes it once (the job may run twice)."""

    __tablename__ = "notice_sms"

    notice_id: Mapped[int] = mapped_column(ForeignKey("service_notice.id"), primary_key=True)
    phase: Mapped[str] = mapped_column(String(8), primary_key=True)  # start | end
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
