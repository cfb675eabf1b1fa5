"""How many days the balance lasts: everyday spending plus the monthly charges on their day.

Everyday spending is the average of the last 30 days' usage charges (calls, SMS and
internet beyond the package) and daily service fees. The monthly fees come as one
scheduled charge on the period's first day, so they are not in the average (that
would spend them twice); one-off charges (a connection or a tariff switch) do not
recur, and transfers out and promised-payment repayments are the customer moving
money, not spending it.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from portal.models import Account, LedgerEntry

WINDOW_DAYS = 30
HORIZON_DAYS = 92  # beyond about three months a forecast says nothing useful
# The billing run's daily service fees (portal/domain/billing.py keys them so).
DAILY_FEE_KEY = "bill:%:day:%"


@dataclass(frozen=True)
class Forecast:
    days: int | None  # None: the money lasts past the horizon (or nothing is spent)
    daily_spend: int  # kopecks a day
    next_charge: int  # kopecks
    next_charge_on: date


@cache
def _spent_statement():
    """Built once: the dashboard asks on every request (plain columns, no ORM work)."""
    entry = LedgerEntry.__table__
    return (select(func.coalesce(func.sum(-entry.c.amount), 0))
            .where(entry.c.account_id == bindparam("account_id"), entry.c.amount < 0,
                   entry.c.created_at >= bindparam("since"),
                   or_(entry.c.kind == "usage",
                       (entry.c.kind == "service_fee") & entry.c.idempotency_key.like(DAILY_FEE_KEY))))


def spent_statement():
    """Kopecks of usage and daily fees spent since the bind parameter ``since`` (``spending_since``) by the account
    ``account_id``: for a caller that asks it inside its own statement (the dashboard's one query)."""
    return _spent_statement()


def spending_since(now: datetime) -> datetime:
    return now - timedelta(days=WINDOW_DAYS)


def daily_average(spent) -> int:
    """What ``spent_statement`` found, as kopecks a day (rounded up)."""
    return -(-int(spent) // WINDOW_DAYS)


def everyday_spend(session: Session, account_id: int, *, now: datetime) -> int:
    """Average kopecks a day of usage and daily fees over the last 30 days (rounded up)."""
    return daily_average(session.scalar(_spent_statement(), {"account_id": account_id, "since": spending_since(now)}))


def next_period_start(today: date, start_day: int) -> date:
    """The next day (after today) on which a billing period starts; the run bills days past the 28th on the 28th."""
    start_day = min(start_day, 28)
    this_month = today.replace(day=start_day)
    if this_month > today:
        return this_month
    return (today.replace(day=28) + timedelta(days=4)).replace(day=start_day)


def days_left(balance: int, *, daily_spend: int, monthly_charge: int, next_charge_on: date, today: date,
              horizon: int = HORIZON_DAYS) -> int | None:
    """Whole days from today until the balance goes below zero; None if it lasts past the horizon."""
    if balance < 0:
        return 0
    charge_on = next_charge_on
    for day_number in range(1, horizon + 1):
        day = today + timedelta(days=day_number)
        balance -= daily_spend
        if day == charge_on:
            balance -= monthly_charge
            charge_on = next_period_start(charge_on, charge_on.day)
        if balance < 0:
            return day_number - 1
    return None


def balance_forecast(session: Session, account: Account, *, monthly_charge: int, start_day: int, now: datetime,
                     today: date) -> Forecast:
    return forecast_of(account.balance, daily=everyday_spend(session, account.id, now=now),
                       monthly_charge=monthly_charge, start_day=start_day, today=today)


def forecast_of(balance: int, *, daily: int, monthly_charge: int, start_day: int, today: date) -> Forecast:
    """The forecast from an everyday spend already known (``daily_average``)."""
    charge_on = next_period_start(today, start_day)
    if not daily and not monthly_charge:
        return Forecast(days=None, daily_spend=0, next_charge=0, next_charge_on=charge_on)
    return Forecast(days=days_left(balance, daily_spend=daily, monthly_charge=monthly_charge,
                                   next_charge_on=charge_on, today=today),
                    daily_spend=daily, next_charge=monthly_charge, next_charge_on=charge_on)
