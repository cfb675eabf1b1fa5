from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow

# Purposes whose text is a secret: never shown to staff.
SECRET_PURPOSES = frozenset({"password", "transfer_code", "close_code", "home_link_code", "voicemail_pin",
                             "parental_pin", "accept", "locator_code"})
# Purposes whose text is the customer's own correspondence (SMS from the web): not shown to staff either.
PRIVATE_PURPOSES = frozenset({"web"})


class SmsMessage(Base):
    """The SMS outbox; the delivery job moves a message from queued to sent or failed. Through the SMSC (SMPP) a
    sent message goes on to delivered, failed or expired as the delivery receipts of its parts say."""

    __tablename__ = "sms_message"
    __table_args__ = (Index("ix_sms_message_created", "created_at"), Index("ix_sms_message_status", "status", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued | sent | delivered | failed | expired
    attempts: Mapped[int] = mapped_column(default=0)
    # Who the recipient sees as the sender; None: the operator's (SMS_SENDER or the brand).
    sender: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # When the delivery receipts settled the message (delivered, failed or expired).
    done_at: Mapped[datetime | None]
    # While a worker waits for the gateway: no other worker or sweep sends the message before this.
    claimed_until: Mapped[datetime | None]

    parts: Mapped[list["SmsPart"]] = relationship(back_populates="message", order_by="SmsPart.part_no",
                                                  lazy="raise_on_sql")

    @property
    def is_secret(self) -> bool:
        return self.purpose in SECRET_PURPOSES

    @property
    def is_private(self) -> bool:
        return self.purpose in PRIVATE_PURPOSES


class SmsPart(Base):
    """One submit_sm of a message sent through the SMSC: the SMSC's message id and what its receipt said."""

    __tablename__ = "sms_part"
    __table_args__ = (UniqueConstraint("message_id", "part_no", name="uq_sms_part_message_part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("sms_message.id"))
    part_no: Mapped[int]  # 1-based, as in the user data header
    # Unique at the SMSC for a good while, not forever (ids are recycled): a receipt goes to the latest part.
    smsc_id: Mapped[str] = mapped_column(String(65), index=True)
    state: Mapped[str] = mapped_column(String(12), default="sent")  # sent | delivered | failed | expired
    stat: Mapped[str | None] = mapped_column(String(12))  # the receipt's word: DELIVRD, UNDELIV, EXPIRED …
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]

    message: Mapped[SmsMessage] = relationship(back_populates="parts")


class SmsReceipt(Base):
    """A delivery receipt for an SMSC message id no part has yet (an SMSC may send the receipt before the
    submit_sm_resp): applied, and deleted, when the part of that id is recorded; a second copy finds the row and
    changes nothing. Receipts for ids that never come are pruned after a week (``domain.sms.prune_receipts``)."""

    __tablename__ = "sms_receipt"

    smsc_id: Mapped[str] = mapped_column(String(65), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(12))  # delivered | failed | expired; None: not final (ENROUTE)
    stat: Mapped[str | None] = mapped_column(String(12))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
