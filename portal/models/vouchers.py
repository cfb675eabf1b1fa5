from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class Voucher(Base):
    """A prepaid card: single use. Neither its code nor its PIN is stored in clear.

    ``code_digest`` is a keyed hash of the code, so a typed code can be found by an
    index without keeping the code; the PIN is hashed like a password.
    """

    __tablename__ = "voucher"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    amount: Mapped[int]  # kopecks
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    used_at: Mapped[datetime | None]
