from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class VoicemailBox(Base):
    """A line's voicemail as the customer set it (the switch and the voicemail platform hold the truth)."""

    __tablename__ = "voicemail_box"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    # The forwarding conditions that go to voicemail, comma-separated (always, busy, no_answer, unreachable).
    conditions: Mapped[str] = mapped_column(String(60), default="busy,no_answer,unreachable")
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class VoiceMessage(Base):
    """A message left on the voicemail platform, as it reported it."""

    __tablename__ = "voice_message"
    __table_args__ = (Index("ix_voice_message_account_received", "account_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # the platform's id of the message
    caller: Mapped[str | None] = mapped_column(String(16))  # None: the caller hid the number
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_s: Mapped[int] = mapped_column(default=0)
