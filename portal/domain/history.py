"""The "Account" report: money in and out of one account over a period."""
import io
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from portal.domain import statement
from portal.domain.csv_export import csv_writer
from portal.domain.errors import DomainError
from portal.models import LedgerEntry

PAGE_SIZE = 30
MAX_DAYS = 366
KIND_LABELS = OrderedDict([
    ("card_topup", _l("Card top-up")), ("voucher", _l("Prepaid card")), ("transfer_in", _l("Transfer received")),
    ("transfer_out", _l("Transfer sent")), ("promised_credit", _l("Promised payment")),
    ("promised_repay", _l("Promised payment repaid")), ("tariff_fee", _l("Tariff")),
    ("service_fee", _l("Services")), ("usage", _l("Calls, SMS, internet")), ("bonus", _l("Bonus")),
    ("adjustment", _l("Adjustment")),
])
# Spending categories of the monthly chart, each a set of ledger kinds.
SPENDING = OrderedDict([("tariff", ("tariff_fee",)), ("services", ("service_fee",)), ("usage", ("usage",)),
                        ("other", ("transfer_out", "promised_repay", "adjustment"))])
SPENDING_LABELS = {"tariff": _l("Tariff"), "services": _l("Services"), "usage": _l("Calls, SMS, internet"),
                   "other": _l("Other")}


class BadPeriod(DomainError):
    field = "start"


def local_midnight_in_utc(day: date, tz: str) -> datetime:
    """The customer's midnight of ``day`` as the naive UTC time the database stores."""
    local = datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(tz))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Period:
    """Whole days in the customer's time zone, from ``start`` to ``end`` inclusive."""

    start: date
    end: date
    tz: str = "UTC"

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return local_midnight_in_utc(self.start, self.tz), local_midnight_in_utc(self.end + timedelta(days=1), self.tz)


def check_period(start: date, end: date, *, today: date, tz: str = "UTC") -> Period:
    if start > end:
        raise BadPeriod(_l("The start must come before the end."))
    if end > today:
        raise BadPeriod(_l("The period cannot end in the future."), field="end")
    if (end - start).days > MAX_DAYS:
        raise BadPeriod(_l("A period of at most a year, please."))
    return Period(start, end, tz)


def _filters(account_id: int, period: Period, kinds: list[str]):
    start, end = period.bounds
    conditions = [LedgerEntry.account_id == account_id, LedgerEntry.created_at >= start, LedgerEntry.created_at < end]
    if kinds:
        conditions.append(LedgerEntry.kind.in_(kinds))
    return conditions


def entries_page(session: Session, account_id: int, period: Period, kinds: list[str], *,
                 before_id: int | None = None, size: int = PAGE_SIZE) -> tuple[list[LedgerEntry], int | None]:
    """Newest first, ``size`` at a time; returns the entries and the id to continue before, if any."""
    stmt = select(LedgerEntry).where(*_filters(account_id, period, kinds))
    if before_id:
        stmt = stmt.where(LedgerEntry.id < before_id)
    rows = list(session.scalars(stmt.order_by(LedgerEntry.id.desc()).limit(size + 1)))
    return rows[:size], (rows[size - 1].id if len(rows) > size else None)


def totals(session: Session, account_id: int, period: Period, kinds: list[str]) -> tuple[int, int]:
    """(income, expenses) in kopecks; expenses as a positive number."""
    income, expenses = session.execute(
        select(func.coalesce(func.sum(case((LedgerEntry.amount > 0, LedgerEntry.amount), else_=0)), 0),
               func.coalesce(func.sum(case((LedgerEntry.amount < 0, -LedgerEntry.amount), else_=0)), 0))
        .where(*_filters(account_id, period, kinds))
    ).one()
    return int(income), int(expenses)


def monthly_spending(session: Session, account_id: int, *, months: int, today: date,
                     tz: str = "UTC") -> list[tuple[date, dict]]:
    """The last ``months`` calendar months of the customer's zone: spending per category, oldest first."""
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    rows = session.execute(
        select(LedgerEntry.created_at, LedgerEntry.kind, LedgerEntry.amount)
        .where(LedgerEntry.account_id == account_id, LedgerEntry.amount < 0,
               LedgerEntry.created_at >= local_midnight_in_utc(first, tz))
    ).all()
    result: OrderedDict[date, dict] = OrderedDict()
    month = first
    while month <= today:
        result[month] = {category: 0 for category in SPENDING}
        month = (month + timedelta(days=32)).replace(day=1)
    category_of = {kind: category for category, kinds in SPENDING.items() for kind in kinds}
    zone = ZoneInfo(tz)
    for created_at, kind, amount in rows:
        local_day = created_at.replace(tzinfo=timezone.utc).astimezone(zone).date()
        bucket = result.get(local_day.replace(day=1))
        if bucket is not None:
            bucket[category_of.get(kind, "other")] += -amount
    return list(result.items())


# The reader's language, like the page: the file is for people (Excel), the amount stays a plain number.
CSV_HEADERS = (_l("Time (UTC)"), _l("Kind code"), _l("Kind"), _l("Description"), _l("Amount, ₽"))


def csv_lines(session: Session, account_id: int, period: Period, kinds: list[str]):
    """The period as CSV, streamed in chunks: date, kind, description, amount in roubles."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow([str(header) for header in CSV_HEADERS])
    yield out.getvalue()
    stmt = (select(LedgerEntry.created_at, LedgerEntry.kind, LedgerEntry.description, LedgerEntry.params,
                   LedgerEntry.amount)
            .where(*_filters(account_id, period, kinds)).order_by(LedgerEntry.id.desc())
            .execution_options(yield_per=500))
    for created_at, kind, description, params, amount in session.execute(stmt):
        out.seek(0)
        out.truncate()
        sign = "-" if amount < 0 else ""
        writer.writerow([created_at.isoformat(sep=" ", timespec="seconds"), kind, str(KIND_LABELS.get(kind, kind)),
                         statement.text_of(params, description),
                         f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"])
        yield out.getvalue()
