from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class ProcessedRequest(Base):
    """A form's idempotency key, stored in the transaction that carried it out.

    A double click or a retried POST brings the same key; the unique key makes the
    second one find the first instead of doing the change again.
    """

    __tablename__ = "processed_request"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    action: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
