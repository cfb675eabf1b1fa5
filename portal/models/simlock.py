import json
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow


class SimLock(Base):
    """The SIM-swap and port-out lock of a line (issue 18, point 3): a row while on or while its release waits.

    The release takes effect by itself at ``release_at``: the lock is read as on until then, so no job has to
    switch it off (portal.domain.simlock.lock_state)."""

    __tablename__ = "sim_lock"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)
    release_requested_at: Mapped[datetime | None]
    release_at: Mapped[datetime | None]


class GuardedAction(Base):
    """A staff action on a line's SIM or number: a SIM reissue or the start of a port-out.

    Under the lock it waits (*awaiting_check*) until a second staff member records the caller's identity
    check and approves it; without the lock it is *done* at once. Only the document's type and its last four
    characters are kept, never the whole number."""

    __tablename__ = "guarded_action"
    __table_args__ = (Index("ix_guarded_action_account", "account_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    kind: Mapped[str] = mapped_column(String(16))  # sim_reissue | port_out
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the new ICCID, or the recipient and date
    state: Mapped[str] = mapped_column(String(16))  # awaiting_check | done | cancelled
    requested_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    document_type: Mapped[str | None] = mapped_column(String(24))
    document_last4: Mapped[str | None] = mapped_column(String(4))
    finished_at: Mapped[datetime | None]

    requester: Mapped["Staff"] = relationship(foreign_keys=[requested_by])  # noqa: F821
    approver: Mapped["Staff | None"] = relationship(foreign_keys=[approved_by])  # noqa: F821

    @property
    def details(self) -> dict:
        return json.loads(self.params or "{}")


class PortOut(Base):
    """The line's number moving to another operator: *started* → *done* (the contract ends) or *cancelled*."""

    __tablename__ = "port_out"
    __table_args__ = (Index("ix_port_out_account", "account_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    recipient: Mapped[str] = mapped_column(String(80))  # the operator the number goes to
    requested_on: Mapped[date]  # the date of the customer's request to the recipient operator
    state: Mapped[str] = mapped_column(String(12), default="started")  # started | done | cancelled
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
