from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class Passkey(Base):
    """A WebAuthn credential of a customer's login or of a staff member (exactly one of the two): its public key
    only; the private key never leaves the person's device."""

    __tablename__ = "passkey"
    __table_args__ = (CheckConstraint("(login_id IS NULL) <> (staff_id IS NULL)", name="one_owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id: Mapped[int | None] = mapped_column(ForeignKey("login.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url, as the browser sends it
    user_handle: Mapped[str] = mapped_column(String(100))  # base64url of the WebAuthn user.id given at creation
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE
    sign_count: Mapped[int] = mapped_column(default=0)
    transports: Mapped[str] = mapped_column(String(100), default="")  # comma-separated hints for the browser
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
