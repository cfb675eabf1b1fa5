import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.models.base import Base, utcnow


class AccountKind(str, enum.Enum):
    mobile = "mobile"
    home = "home"


class AccountStatus(str, enum.Enum):
    active = "active"
    blocked_by_owner = "blocked_by_owner"
    blocked_lost = "blocked_lost"
    suspended = "suspended"
    terminated = "terminated"


class Customer(Base):
    """A person or a company that owns accounts."""

    __tablename__ = "customer"
    __table_args__ = (
        # Staff search by any part of a name: a trigram index serves "contains" on PostgreSQL.
        Index("ix_customer_name_folded_trgm", "name_folded", postgresql_using="gin",
              postgresql_ops={"name_folded": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # The name casefolded in Python: SQLite's lower() folds only ASCII, so Cyrillic needs this copy.
    name_folded: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(64))
    contract_no: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    accounts: Mapped[list["Account"]] = relationship(back_populates="customer", order_by="Account.id")
    code_word: Mapped["CodeWord | None"] = relationship(viewonly=True)  # noqa: F821 - support's code word

    @validates("name")
    def _fold_name(self, _key: str, name: str) -> str:
        self.name_folded = fold_name(name)
        return name


def fold_name(text: str) -> str:
    """How names are compared in searches: casefolded, ё as е, spaces collapsed."""
    return " ".join((text or "").casefold().replace("ё", "е").split())


class Account(Base):
    """What has a balance, a tariff and services: one mobile line or one home contract."""

    __tablename__ = "account"
    __table_args__ = (CheckConstraint("kind in ('mobile', 'home')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default=AccountStatus.active.value)
    region: Mapped[str] = mapped_column(String(64))
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariff.id"))
    # Cached sum of the ledger entries, in kopecks; changed only with a ledger entry.
    balance: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last day the billing run billed this account for: a run for an earlier day leaves it alone (the
    # run bills by the account's state now, which is not that day's), a run for a later day bills the days
    # missed in between first (portal.domain.billing).
    billed_through: Mapped[date | None]

    customer: Mapped[Customer] = relationship(back_populates="accounts")
    tariff: Mapped["Tariff | None"] = relationship()  # noqa: F821
    line: Mapped["Line | None"] = relationship(back_populates="account", uselist=False)
    home_contract: Mapped["HomeContract | None"] = relationship(back_populates="account", uselist=False)


class Line(Base):
    """The mobile details of an account."""

    __tablename__ = "line"
    __table_args__ = (
        # Staff search by a part of a number (4 digits or more): a trigram index serves "contains" on PostgreSQL.
        Index("ix_line_msisdn_trgm", "msisdn", postgresql_using="gin", postgresql_ops={"msisdn": "gin_trgm_ops"}),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    msisdn: Mapped[str] = mapped_column(String(16), unique=True)  # E.164
    # Marked by the owner: the family locator's parental rule (docs/architecture.md, "Family locator").
    used_by_child: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The SIM card in use (19-20 digits, Luhn-checked); None for lines from before SIMs were recorded here.
    iccid: Mapped[str | None] = mapped_column(String(20))

    account: Mapped[Account] = relationship(back_populates="line")


class HomeContract(Base):
    """The home internet/TV details of an account."""

    __tablename__ = "home_contract"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(32), unique=True)
    address: Mapped[str] = mapped_column(String(300))
    connection_type: Mapped[str] = mapped_column(String(32))  # fttb | gpon | adsl | docsis
    billing_day: Mapped[int] = mapped_column(default=1)
    contact_phone: Mapped[str | None] = mapped_column(String(16))

    account: Mapped[Account] = relationship(back_populates="home_contract")
