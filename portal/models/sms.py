from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow

# Purposes whose text is a secret: never shown to staff.
SECRET_PURPOSES = frozenset({"password", "transfer_code", "close_code", "home_link_code", "voicemail_pin",
                             "parental_pin"})
# Purposes whose text is the customer's own correspondence (SMS from the web): not shown to staff either.
PRIVATE_PURPOSES = frozenset({"web"})


class SmsMessage(Base):
    """The SMS outbox; the delivery job moves a message from queued to sent or failed."""

    __tablename__ = "sms_message"
    __table_args__ = (Index("ix_sms_message_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    # Who the recipient sees as the sender; None: the operator's (SMS_SENDER or the brand).
    sender: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # While a worker waits for the gateway: no other worker or sweep sends the message before this.
    claimed_until: Mapped[datetime | None]

    @property
    def is_secret(self) -> bool:
        return self.purpose in SECRET_PURPOSES

    @property
    def is_private(self) -> bool:
        return self.purpose in PRIVATE_PURPOSES
