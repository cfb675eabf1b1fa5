from datetime import datetime

from flask_babel import get_locale
from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.base import Base, utcnow

service_tariff = Table(
    "service_tariff",
    Base.metadata,
    Column("service_id", ForeignKey("service.id"), primary_key=True),
    Column("tariff_id", ForeignKey("tariff.id"), primary_key=True),
)


# Services that cannot be connected together (stored once per pair, either order).
service_conflict = Table(
    "service_conflict",
    Base.metadata,
    Column("service_id", ForeignKey("service.id"), primary_key=True),
    Column("other_id", ForeignKey("service.id"), primary_key=True),
)


def in_readers_language(text: str, english: str | None) -> str:
    """The operator's text (Russian, the default language), or the English one the operator gave for a reader of
    English: the request's language, or the one an SMS job forces for its reader, or the app's default."""
    if english:
        locale = get_locale()
        if locale is not None and locale.language == "en":
            return english
    return text


class InReadersLanguage:
    """A catalog entry's name and description as the reader reads them (``title``, ``about``); ``name`` and
    ``description`` stay the operator's own, for sorting, staff pages and the ledger."""

    @property
    def title(self) -> str:
        return in_readers_language(self.name, self.name_en)

    @property
    def about(self) -> str:
        return in_readers_language(self.description, self.description_en)


class Tariff(InReadersLanguage, Base):
    __tablename__ = "tariff"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # mobile | home
    region: Mapped[str | None] = mapped_column(String(64))  # None: every region
    monthly_fee: Mapped[int] = mapped_column(default=0)  # kopecks
    switch_fee: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[int] = mapped_column(default=0)
    sms: Mapped[int] = mapped_column(default=0)
    mms: Mapped[int] = mapped_column(default=0)
    data_mb: Mapped[int] = mapped_column(default=0)  # 0 with unlimited_data False: none
    unlimited_data: Mapped[bool] = mapped_column(default=False)
    speed_mbps: Mapped[int | None]  # home internet: the speed the tariff promises
    # Home: the connection types that can carry the tariff, comma-separated ("gpon,fttb"); empty: any.
    connection_types: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # When a switch to this tariff takes effect: "now" or "next_period" (the contract's next billing period).
    change_effective: Mapped[str] = mapped_column(String(16), default="now", server_default="now")
    # Home: the monthly fee while the contract is paused, kopecks; None: the tariff cannot be paused.
    pause_monthly_fee: Mapped[int | None]
    # Kopecks per SMS part beyond the package (SMS from the web); None: the operator's WEB_SMS_PRICE.
    sms_price: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")
    name_en: Mapped[str | None] = mapped_column(String(100))  # None: the name is the same in English
    description_en: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(default=False)

    @property
    def connection_type_list(self) -> list[str]:
        return [t for t in (self.connection_types or "").split(",") if t]

    def carries(self, connection_type: str) -> bool:
        """Whether a line of this connection type can carry the tariff (no list: any can)."""
        return not self.connection_type_list or connection_type in self.connection_type_list


class Service(InReadersLanguage, Base):
    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # mobile | home | tv
    connection_fee: Mapped[int] = mapped_column(default=0)
    monthly_fee: Mapped[int] = mapped_column(default=0)
    # Charged every day by the billing run (blacklist, ringback tones); most services have none.
    daily_fee: Mapped[int] = mapped_column(default=0, server_default="0")
    description: Mapped[str] = mapped_column(Text, default="")
    name_en: Mapped[str | None] = mapped_column(String(100))  # None: the name is the same in English
    description_en: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(default=False)
    # The unused part of the month's fee comes back on disconnection (most services: no).
    refund_unused: Mapped[bool] = mapped_column(default=False)

    # Empty: compatible with every tariff of its kind.
    tariffs: Mapped[list[Tariff]] = relationship(secondary=service_tariff)
    conflicts: Mapped[list["Service"]] = relationship(
        secondary=service_conflict,
        primaryjoin=lambda: Service.id == service_conflict.c.service_id,
        secondaryjoin=lambda: Service.id == service_conflict.c.other_id,
    )


class Subscription(Base):
    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | ended
    since: Mapped[datetime] = mapped_column(default=utcnow)
    until: Mapped[datetime | None]

    service: Mapped[Service] = relationship()


class Allowance(Base):
    """What is left of the tariff's package this period."""

    __tablename__ = "allowance"
    __table_args__ = (UniqueConstraint("account_id", "period_start", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    minutes_total: Mapped[int] = mapped_column(default=0)
    minutes_left: Mapped[int] = mapped_column(default=0)
    sms_total: Mapped[int] = mapped_column(default=0)
    sms_left: Mapped[int] = mapped_column(default=0)
    mms_total: Mapped[int] = mapped_column(default=0)
    mms_left: Mapped[int] = mapped_column(default=0)
    data_mb_total: Mapped[int] = mapped_column(default=0)
    data_mb_left: Mapped[int] = mapped_column(default=0)
