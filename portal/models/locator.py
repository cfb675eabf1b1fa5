from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow


class LocatorConsent(Base):
    """One person a seeker's line asked to see on the map (the family locator, issue 18 point 2), and whether the
    holder of that number agreed.

    pending → granted (the code the holder was sent, the holder signed in and agreed, or the owner of a child's line
    under the same personal account) / refused / expired (the code's day ran out or too many wrong codes) /
    revoked (by the holder) / removed (by the seeker). Rows stay: the holder sees every lookup made under them."""

    __tablename__ = "locator_consent"
    __table_args__ = (Index("ix_locator_consent_seeker_state", "seeker_account_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seeker_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    target_msisdn: Mapped[str] = mapped_column(String(16))
    # The holder's line when the number is ours (None otherwise: such a request can never be granted).
    target_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))  # what the seeker calls them
    state: Mapped[str] = mapped_column(String(12), default="pending")
    code_hash: Mapped[str | None] = mapped_column(String(255))
    wrong_codes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]  # when a pending request lapses
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(8))  # code | holder | owner | seeker | expiry


class LocatorLookup(Base):
    """One "where are they now" asked of the network under a consent: pending while the network answers (no lock is
    held meanwhile), then found (the position), failed (the network's fault) or refused (consent ended meanwhile)."""

    __tablename__ = "locator_lookup"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("locator_consent.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(8), default="pending")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[int | None]
    located_at: Mapped[datetime | None]  # when the network saw the phone there
    place: Mapped[str | None] = mapped_column(String(120))
    failure: Mapped[str | None] = mapped_column(String(120))
    noticed: Mapped[bool] = mapped_column(default=False)  # the holder was sent (or held) an SMS about it
