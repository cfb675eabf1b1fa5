"""The billing run: what happens to every account on a given day. Running it twice changes nothing twice.

Home contracts: every day the holiday pauses due start and those over end (portal.domain.home_pause);
on the contract's period start (its billing day, the 28th at most) the tariff change scheduled for it is
applied first, then the fees are charged: the reduced pause fee instead of the tariff's and the services'
when the contract is paused that day. Traffic needs no reset: the home dashboard sums the usage records
from the current period's first day (portal.domain.home.billing_period, the same billing day).

The run bills the accounts in batches by id range (``batches``), each one transaction of a few set-based
statements (portal.domain.billing.batch); the Celery jobs run the batches in parallel on the ``billing``
queue and each batch then queues the auto-payments due among its accounts (portal.jobs).

Each account remembers the last day it was billed for (``Account.billed_through``). The rules read the
account's state now (its pause, its status, its services), so a run only bills forward: a day earlier than
an account's last is left alone for it (run again after later days, it would charge a pause that has ended
since or a daily fee for a line that was blocked that day), and a run finds the days an account missed
since its last (a batch that failed, a night the workers were down) and bills them first, oldest first, up
to CATCH_UP_DAYS back.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.autopay import run_due
from portal.domain.billing.batch import Lines, bill_batch, billed_at
from portal.models import Account, AccountStatus
from portal.payment_gateway import PaymentProvider


@dataclass(frozen=True)
class AutopaySettings:
    provider_for: Callable[[Session], PaymentProvider | None]  # the configured provider over a session, or None
    max_failures: int
    brand: str
    sms_locale: str

    @classmethod
    def from_config(cls, cfg) -> "AutopaySettings":
        from portal.payment_gateway import ProviderNotConfigured, provider_from_config

        def provider_for(session: Session) -> PaymentProvider | None:
            try:
                return provider_from_config(cfg, session)
            except ProviderNotConfigured:
                return None

        return cls(provider_for, cfg["AUTOPAY_MAX_FAILURES"], cfg["BRAND"], cfg["BABEL_DEFAULT_LOCALE"])


BILLED = (AccountStatus.active.value, AccountStatus.blocked_by_owner.value, AccountStatus.blocked_lost.value,
          AccountStatus.suspended.value)


@dataclass
class RunReport:
    day: date
    accounts: int = 0
    autopaid: int = 0
    autopay_failed: int = 0
    points: int = 0
    charges: int = 0
    charged: int = 0  # kopecks
    allowances: int = 0
    tariff_changes: int = 0  # scheduled home tariff changes applied
    paused: int = 0  # home contracts paused on their period start (charged the reduced fee)
    suspended: list[int] = field(default_factory=list)
    low_balance_alerts: int = 0
    caught_up: int = 0  # account-days billed for days missed before this one
    billed_later: int = 0  # accounts already billed for a later day, left alone

    def add(self, other: "RunReport") -> None:
        """Add a batch's figures to the run's."""
        for name in ("accounts", "autopaid", "autopay_failed", "points", "charges", "charged", "allowances",
                     "tariff_changes", "paused", "low_balance_alerts", "caught_up", "billed_later"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.suspended.extend(other.suspended)

    def __str__(self) -> str:
        return (f"Billing run for {self.day}: {self.accounts} accounts, {self.charges} charges "
                f"({self.charged / 100:.2f} roubles), {self.allowances} packages renewed, "
                f"{len(self.suspended)} suspended for an unpaid promised payment, "
                f"{self.autopaid} auto-payments made, {self.autopay_failed} failed, {self.points} bonus points, "
                f"{self.tariff_changes} scheduled tariff changes, {self.paused} paused contracts at the pause fee, "
                f"{self.low_balance_alerts} low-balance alerts."
                + (f" {self.caught_up} missed account-days billed first." if self.caught_up else "")
                + (f" {self.billed_later} accounts left alone: already billed for a later day."
                   if self.billed_later else ""))


__all__ = ["AutopaySettings", "BILLED", "RunReport", "batches", "bill_range", "billed_at", "run_billing"]

BATCH_SIZE = 2000  # accounts per batch (an id range): one transaction, a few statements per rule
# How far back a run bills the days an account missed; older gaps are the operator's (`flask billing run
# --date`, oldest day first).
CATCH_UP_DAYS = 7


def batches(session: Session, size: int = BATCH_SIZE) -> list[tuple[int, int]]:
    """The id ranges [first, last] the run bills one by one (or a worker each): every account is in one."""
    low, high = session.execute(select(func.min(Account.id), func.max(Account.id))).one()
    if low is None:
        return []
    return [(first, min(first + size - 1, high)) for first in range(low, high + 1, size)]


def missed_days(session: Session, *, first_id: int, last_id: int, day: date) -> list[date]:
    """The days before ``day`` that some account of the range was not billed for since its last billed day
    (at most CATCH_UP_DAYS back), oldest first."""
    behind = session.scalar(select(func.min(Account.billed_through)).where(
        Account.id.between(first_id, last_id), Account.status.in_(BILLED),
        Account.billed_through < day - timedelta(days=1)))
    if behind is None:
        return []
    first = max(behind + timedelta(days=1), day - timedelta(days=CATCH_UP_DAYS))
    return [first + timedelta(days=n) for n in range((day - first).days)]


def bill_range(session: Session, *, first_id: int, last_id: int, day: date, now: datetime,
               kopecks_per_point: int | None = None, lines: Lines | None = None) -> RunReport:
    """Bill one batch of accounts for the days they missed, then for ``day`` (a transaction each); safe to run
    again, or at the same time as another batch."""
    report = RunReport(day)
    for missed in missed_days(session, first_id=first_id, last_id=last_id, day=day):
        done = bill_batch(session, first_id=first_id, last_id=last_id, day=missed, now=now, billed=BILLED,
                          lines=lines, kopecks_per_point=kopecks_per_point, catch_up=True)
        report.add(_report(missed, done))
    report.caught_up, report.accounts = report.accounts, 0
    done = bill_batch(session, first_id=first_id, last_id=last_id, day=day, now=now, billed=BILLED, lines=lines,
                      kopecks_per_point=kopecks_per_point)
    report.add(_report(day, done))
    return report


def _report(day: date, done) -> RunReport:
    return RunReport(day, accounts=done.accounts, points=done.points, charges=done.charges, charged=done.charged,
                     allowances=done.allowances, tariff_changes=done.tariff_changes, paused=done.paused,
                     suspended=done.suspended, low_balance_alerts=done.alerts, billed_later=done.billed_later)


def run_billing(session: Session, *, day: date, now: datetime, autopay: AutopaySettings | None = None,
                kopecks_per_point: int | None = None, batch_size: int = BATCH_SIZE) -> RunReport:
    """Monthly fees and fresh packages on each account's period start, daily fees, pauses, scheduled tariff
    changes; overdue promises suspend (portal.domain.billing.batch, batch after batch); then the auto-payments
    due (after the fees, so a threshold rule sees the balance they left). The Celery jobs run the same batches
    in parallel (portal.jobs.billing_run)."""
    report = RunReport(day)
    lines = Lines.of(session)
    for first_id, last_id in batches(session, batch_size):
        report.add(bill_range(session, first_id=first_id, last_id=last_id, day=day, now=now,
                              kopecks_per_point=kopecks_per_point, lines=lines))
    if autopay is not None:
        report.autopaid, report.autopay_failed = run_due(session, autopay.provider_for(session), day=day, now=now,
                                                         max_failures=autopay.max_failures, brand=autopay.brand,
                                                         sms_locale=autopay.sms_locale)
    return report
