"""What the dashboard shows for one account: one query per block, no N+1."""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from portal.domain.balance.forecast import Forecast, balance_forecast
from portal.models import Allowance, BonusAccount, Subscription

CONTENT = "subscription"  # the service category of paid content subscriptions


@dataclass(frozen=True)
class Overview:
    allowance: Allowance | None
    services: list[Subscription]  # connected services, content subscriptions excluded
    subscriptions: list[Subscription]  # paid content subscriptions
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


def account_overview(session: Session, account, *, now: datetime, today: date | None = None) -> Overview:
    """``today`` is the customer's day; with it the overview carries the balance forecast."""
    active = active_subscriptions(session, account.id)
    tariff_fee = account.tariff.monthly_fee if account.tariff else 0
    next_charge = tariff_fee + sum(s.service.monthly_fee for s in active)
    return Overview(
        allowance=current_allowance(session, account.id, now),
        services=[s for s in active if s.service.category != CONTENT],
        subscriptions=[s for s in active if s.service.category == CONTENT],
        bonus_points=bonus_points(session, account.id),
        next_charge=next_charge,
        forecast=balance_forecast(session, account, monthly_charge=next_charge, start_day=1, now=now, today=today)
        if today else None,
    )
