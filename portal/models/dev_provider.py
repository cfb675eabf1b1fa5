from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class DevPayment(Base):
    """A payment at the development provider (its own state, as a real provider keeps it on its side):
    pending → succeeded | canceled, or pending → waiting_3ds → succeeded | canceled; an СБП payment is approved or
    declined in the simulated bank app.

    The card number is never stored here either: the last 4 digits only.
    """

    __tablename__ = "dev_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    idempotence_key: Mapped[str] = mapped_column(String(80), unique=True)
    amount: Mapped[int]  # kopecks
    description: Mapped[str] = mapped_column(String(200))
    return_url: Mapped[str | None] = mapped_column(String(500))
    save_method: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    method_token: Mapped[str | None] = mapped_column(String(80))  # the saved method it made or charged
    three_ds_failures: Mapped[int] = mapped_column(default=0)
    method: Mapped[str] = mapped_column(String(8), default="card")  # card (its page) | sbp (the "bank app")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]  # canceled as "expired" when nobody finished it by then
    decided_at: Mapped[datetime | None]


class DevMethod(Base):
    """A card saved at the development provider: its token is what the portal keeps."""

    __tablename__ = "dev_method"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(80), unique=True)
    last4: Mapped[str] = mapped_column(String(4))
    fails_later: Mapped[bool] = mapped_column(default=False)  # the test card that is declined when charged again
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
