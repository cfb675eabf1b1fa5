from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.auth import Staff
from portal.models.base import Base, utcnow
from portal.models.customers import Account


class SupportTopic(Base):
    """A topic a customer chooses for a request (admins manage them). ``code`` never changes: requests keep it
    in ``category``; a retired topic (``active`` false) leaves the new-request form, its requests keep its name."""

    __tablename__ = "support_topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_ru: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class SavedAnswer(Base):
    """A text staff insert into an answer (admins manage them); {number} and {name} are filled on inserting."""

    __tablename__ = "saved_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("support_topic.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    topic: Mapped[SupportTopic | None] = relationship()


class SupportRequest(Base):
    """A customer's request to support about one account (the number or contract in focus when opened).

    new → in_progress → waiting (for the customer) → closed; ``awaiting_since`` is the customer's oldest
    message staff have not answered yet (None when nothing waits for staff): the overdue rule reads it.
    """

    __tablename__ = "support_request"
    __table_args__ = (
        CheckConstraint("state in ('new', 'in_progress', 'waiting', 'closed')", name="state"),
        CheckConstraint("rating is null or rating between 1 and 5", name="rating"),
        Index("ix_support_request_login_created", "login_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("login.id"))
    category: Mapped[str] = mapped_column(ForeignKey("support_topic.code"))  # the topic's code
    subject: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(12), default="new", index=True)
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    awaiting_since: Mapped[datetime | None] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    rating: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(String(500))

    account: Mapped[Account] = relationship()
    assigned_staff: Mapped[Staff | None] = relationship()
    messages: Mapped[list["SupportMessage"]] = relationship(back_populates="request",
                                                            order_by="SupportMessage.id")


class SupportMessage(Base):
    """One message of a request's thread: the customer's (login) or staff's; an internal note only staff see."""

    __tablename__ = "support_message"
    __table_args__ = (
        CheckConstraint("(login_id is null) <> (staff_id is null)", name="one_author"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_request.id"), index=True)
    login_id: Mapped[int | None] = mapped_column(ForeignKey("login.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    text: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    request: Mapped[SupportRequest] = relationship(back_populates="messages")
    staff: Mapped[Staff | None] = relationship()
    attachments: Mapped[list["SupportAttachment"]] = relationship(back_populates="message",
                                                                  order_by="SupportAttachment.id")


class SupportAttachment(Base):
    """A photo or screenshot on a message, re-encoded without metadata (portal.domain.support.attachments).

    The file lives outside the static files, under SUPPORT_ATTACHMENTS_DIR, named by ``stored_name`` (random, so
    a file name tells nothing), with a small JPEG preview beside it for the thread.
    """

    __tablename__ = "support_attachment"
    __table_args__ = (
        CheckConstraint("content_type in ('image/jpeg', 'image/png')", name="content_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("support_message.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(40), unique=True)
    original_name: Mapped[str] = mapped_column(String(100))  # as the customer's device named it, cleaned
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int]  # bytes of the stored picture
    width: Mapped[int]
    height: Mapped[int]
    thumb_width: Mapped[int]
    thumb_height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped[SupportMessage] = relationship(back_populates="attachments")
