"""Home internet and TV: channel lists of TV packages, the parental PIN and the home extras' records."""
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow

# Which channels a TV package (a Service of kind "tv") carries; a channel may be in several packages.
tv_package_channel = Table(
    "tv_package_channel",
    Base.metadata,
    Column("service_id", ForeignKey("service.id"), primary_key=True),
    Column("channel_id", ForeignKey("tv_channel.id"), primary_key=True),
)


class TvChannel(Base):
    """One channel of the operator's TV lineup; adult channels ask for the parental PIN on the set-top box."""

    __tablename__ = "tv_channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    number: Mapped[int]  # the button on the remote
    adult: Mapped[bool] = mapped_column(default=False)

    packages: Mapped[list["Service"]] = relationship(secondary=tv_package_channel)  # noqa: F821


class ParentalPin(Base):
    """The 4-digit PIN that opens adult channels on a home contract's set-top boxes (hashed)."""

    __tablename__ = "parental_pin"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mailbox(Base):
    """An e-mail box at the operator's domain, made when the mailbox extra is connected."""

    __tablename__ = "mailbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), unique=True)
    # The part before "@": unique across all customers (the domain is one, MAILBOX_DOMAIN).
    name: Mapped[str] = mapped_column(String(30), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AntivirusLicence(Base):
    """A licence key given when the antivirus extra is connected: shown once, then only its tail."""

    __tablename__ = "antivirus_licence"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), unique=True)
    key_hash: Mapped[str] = mapped_column(String(255))
    key_tail: Mapped[str] = mapped_column(String(4))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    @property
    def masked(self) -> str:
        return f"XXXX-XXXX-XXXX-{self.key_tail}"


class StaticIp(Base):
    """A public address from STATIC_IP_POOL held by a contract while its static IP extra is connected."""

    __tablename__ = "static_ip"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"), unique=True)
    address: Mapped[str] = mapped_column(String(45), unique=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
