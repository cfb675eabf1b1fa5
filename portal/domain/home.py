"""Home internet and TV: the billing period of a contract and what its dashboard shows."""
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from portal.domain.balance.forecast import Forecast, balance_forecast
from portal.domain.history import Period
from portal.domain.home_pause import open_pause
from portal.domain.overview import active_subscriptions
from portal.domain.promised import open_promise
from portal.domain.tariffs import pending_change
from portal.models import Account, HomePause, PromisedPayment, ScheduledTariffChange, Subscription, UsageRecord


def _shift_month(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def billing_period(billing_day: int, today: date) -> tuple[date, date]:
    """The period around ``today``: from its billing day up to (not including) the next one.

    The billing run starts periods on ``min(billing_day, 28)`` so that every month has the day.
    Traffic "resets" on that day because the dashboard counts only this period's usage records.
    """
    day = min(max(billing_day, 1), 28)
    start = today.replace(day=day) if today.day >= day else _shift_month(today.replace(day=day), -1)
    return start, _shift_month(start, 1)


@dataclass
class HomeOverview:
    period_start: date
    period_end: date  # exclusive: the next period's first day
    days_left: int
    used_mb: int
    limit_mb: int | None  # None: unlimited traffic
    tv: list[Subscription]
    extras: list[Subscription]
    promise: PromisedPayment | None
    promise_days_left: int | None
    pause: HomePause | None = None  # scheduled or running
    scheduled_change: ScheduledTariffChange | None = None  # a tariff change waiting for the next period
    forecast: Forecast | None = None  # how long the balance lasts

    @property
    def last_day(self) -> date:
        return self.period_end - timedelta(days=1)


def home_overview(session: Session, account: Account, *, today: date, now: datetime,
                  tz: str = "UTC") -> HomeOverview:
    """The contract's period, traffic, TV packages, extras, open promised payment, pause and scheduled
    tariff change (five queries). Days are the customer's (``tz``), as on the traffic statistics page."""
    start, end = billing_period(account.home_contract.billing_day, today)
    first, after = Period(start, end - timedelta(days=1), tz).bounds
    used_kb = session.scalar(
        select(func.coalesce(func.sum(UsageRecord.quantity), 0)).where(
            UsageRecord.account_id == account.id, UsageRecord.kind == "data",
            UsageRecord.started_at >= first, UsageRecord.started_at < after))
    tariff = account.tariff
    limit = None if tariff is None or tariff.unlimited_data else tariff.data_mb
    subscriptions = active_subscriptions(session, account.id)
    promise = open_promise(session, account.id)
    # Days started count: a promise taken just now for 15 days has 15 days left, not 14.
    promise_days = max(math.ceil((promise.due_at - now) / timedelta(days=1)), 0) if promise else None
    return HomeOverview(
        period_start=start, period_end=end, days_left=(end - today).days, used_mb=int(used_kb) // 1024,
        limit_mb=limit, tv=[s for s in subscriptions if s.service.kind == "tv"],
        extras=[s for s in subscriptions if s.service.kind == "home"], promise=promise,
        promise_days_left=promise_days, pause=open_pause(session, account.id),
        scheduled_change=pending_change(session, account.id),
        forecast=balance_forecast(session, account, start_day=account.home_contract.billing_day, now=now, today=today,
                                  monthly_charge=(tariff.monthly_fee if tariff else 0)
                                  + sum(s.service.monthly_fee for s in subscriptions)))


# ---- traffic statistics --------------------------------------------------------------------------------------


def billing_periods(billing_day: int, today: date, *, earliest: date) -> list[tuple[date, date]]:
    """The current billing period and the past ones that start on ``earliest`` or later, newest first.

    Each is (first day, next period's first day); the call-details limit (six months) gives ``earliest``.
    """
    periods = [billing_period(billing_day, today)]
    while True:
        start = billing_period(billing_day, periods[-1][0] - timedelta(days=1))[0]
        if start < earliest:
            return periods
        periods.append((start, periods[-1][0]))


def daily_traffic(session: Session, account_id: int, period: Period) -> list[tuple[date, int]]:
    """KB of internet sessions per day of the period (in its time zone), every day listed, oldest first.

    A session counts on the day it starts, as the billing run counts it. A home contract has a few
    sessions a day, so the period's rows are summed here: one indexed query, days of any time zone.
    """
    start, end = period.bounds
    rows = session.execute(
        select(UsageRecord.started_at, UsageRecord.quantity)
        .where(UsageRecord.account_id == account_id, UsageRecord.kind == "data",
               UsageRecord.started_at >= start, UsageRecord.started_at < end))
    days = {period.start + timedelta(days=i): 0 for i in range((period.end - period.start).days + 1)}
    zone = ZoneInfo(period.tz)
    for started_at, kb in rows:
        day = started_at.replace(tzinfo=timezone.utc).astimezone(zone).date()
        if day in days:
            days[day] += kb
    return list(days.items())


@dataclass(frozen=True)
class PeriodTraffic:
    start: date
    end: date  # exclusive
    kb: int

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def period_traffic(session: Session, accounts: list[Account], *, today: date) -> dict[int, PeriodTraffic]:
    """Each home contract's traffic in its current billing period, for staff: one query for all of them."""
    homes = [a for a in accounts if a.home_contract is not None]
    if not homes:
        return {}
    periods = {a.id: billing_period(a.home_contract.billing_day, today) for a in homes}
    midnight = datetime.min.time()
    rows = session.execute(
        select(UsageRecord.account_id, func.coalesce(func.sum(UsageRecord.quantity), 0))
        .where(UsageRecord.kind == "data", or_(*(
            and_(UsageRecord.account_id == account_id,
                 UsageRecord.started_at >= datetime.combine(start, midnight),
                 UsageRecord.started_at < datetime.combine(end, midnight))
            for account_id, (start, end) in periods.items())))
        .group_by(UsageRecord.account_id)).all()
    used = {account_id: int(kb) for account_id, kb in rows}
    return {account_id: PeriodTraffic(start, end, used.get(account_id, 0))
            for account_id, (start, end) in periods.items()}
