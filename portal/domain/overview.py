"""What the dashboard shows for one account: two queries (the subscriptions; one row of the package, the bonus
points and the spending the forecast needs), no N+1.

The dashboard is the page customers open most, so its blocks read plain rows (the columns the cards
show) through statements built once, not ORM objects: the ORM's work per object and per statement
costs more than the database takes to answer.
"""
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import Row, and_, bindparam, literal, select
from sqlalchemy.orm import Session, joinedload

from portal.domain.balance.forecast import Forecast, daily_average, forecast_of, spending_since, spent_statement
from portal.models import Allowance, BonusAccount, Service, Subscription

CONTENT = "subscription"  # the service category of paid content subscriptions


@dataclass(frozen=True)
class Overview:
    allowance: Row | None  # the package's columns (minutes_left, minutes_total …, period_end) this period
    services: list[Row]  # connected services, content subscriptions excluded: id, since, name, category, fees
    subscriptions: list[Row]  # paid content subscriptions, the same columns
    bonus_points: int
    next_charge: int  # kopecks: the tariff's and the services' monthly fees
    forecast: Forecast | None = None  # how long the balance lasts (when the customer's day is given)

    def low_balance(self, balance: int) -> bool:
        """The balance will not cover the next monthly charge."""
        return self.next_charge > 0 and balance < self.next_charge


def current_allowance(session: Session, account_id: int, now: datetime) -> Allowance | None:
    return session.scalar(
        select(Allowance).where(Allowance.account_id == account_id, Allowance.period_start <= now,
                                Allowance.period_end > now)
    )


def active_subscriptions(session: Session, account_id: int) -> list[Subscription]:
    return list(session.scalars(
        select(Subscription).options(joinedload(Subscription.service))
        .where(Subscription.account_id == account_id, Subscription.status == "active")
        .order_by(Subscription.since)
    ))


def bonus_points(session: Session, account_id: int) -> int:
    return session.scalar(select(BonusAccount.points).where(BonusAccount.account_id == account_id)) or 0


@cache
def _statements():
    allowance, subscription, service = Allowance.__table__, Subscription.__table__, Service.__table__
    account_id, now = bindparam("account_id"), bindparam("now")
    return {
        # One row whatever the account has: this period's package (its columns None without one), the bonus
        # points and the last 30 days' everyday spending (the forecast's), each statement a round trip less.
        "summary": select(*allowance.c,
                          select(BonusAccount.__table__.c.points)
                          .where(BonusAccount.__table__.c.account_id == account_id)
                          .scalar_subquery().label("bonus_points"),
                          spent_statement().scalar_subquery().label("spent"))
        .select_from(select(literal(1).label("one")).subquery("one")
                     .outerjoin(allowance, and_(allowance.c.account_id == account_id,
                                                allowance.c.period_start <= now, allowance.c.period_end > now))),
        "subscriptions": select(subscription.c.id, subscription.c.since, service.c.code, service.c.name,
                                service.c.name_en, service.c.category, service.c.monthly_fee, service.c.daily_fee)
        .join(service, service.c.id == subscription.c.service_id)
        .where(subscription.c.account_id == account_id, subscription.c.status == "active")
        .order_by(subscription.c.since),
    }


def account_overview(session: Session, account, *, tariff_fee: int, now: datetime,
                     today: date | None = None) -> Overview:
    """``account``: its id and balance (the dashboard gives its card); ``tariff_fee``: the tariff's monthly fee.

    ``today`` is the customer's day; with it the overview carries the balance forecast."""
    statements = _statements()
    params = {"account_id": account.id, "now": now, "since": spending_since(now)}
    active = session.execute(statements["subscriptions"], params).all()
    summary = session.execute(statements["summary"], params).first()
    next_charge = tariff_fee + sum(s.monthly_fee for s in active)
    return Overview(
        allowance=summary if summary.id is not None else None,
        services=[s for s in active if s.category != CONTENT],
        subscriptions=[s for s in active if s.category == CONTENT],
        bonus_points=summary.bonus_points or 0,
        next_charge=next_charge,
        forecast=forecast_of(account.balance, daily=daily_average(summary.spent), monthly_charge=next_charge,
                             start_day=1, today=today) if today else None,
    )
