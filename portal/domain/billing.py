"""The billing run: what happens to every account on a given day. Running it twice changes nothing twice.

Home contracts: every day the holiday pauses due start and those over end (portal.domain.home_pause);
on the contract's period start (its billing day, the 28th at most) the tariff change scheduled for it is
applied first, then the fees are charged: the reduced pause fee instead of the tariff's and the services'
when the contract is paused that day. Traffic needs no reset: the home dashboard sums the usage records
from the current period's first day (portal.domain.home.billing_period, the same billing day).
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.domain import ledger
from portal.domain.accounts import lock_account
from portal.domain.audit import SYSTEM, record
from portal.domain.autopay import run_due
from portal.domain.bonus import award_for_period
from portal.domain.home_pause import advance_pauses
from portal.domain.overview import active_subscriptions
from portal.domain.tariffs import apply_scheduled_changes
from portal.models import Account, AccountStatus, Allowance, HomePause, LedgerEntry, PromisedPayment
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

    def __str__(self) -> str:
        return (f"Billing run for {self.day}: {self.accounts} accounts, {self.charges} charges "
                f"({self.charged / 100:.2f} roubles), {self.allowances} packages renewed, "
                f"{len(self.suspended)} suspended for an unpaid promised payment, "
                f"{self.autopaid} auto-payments made, {self.autopay_failed} failed, {self.points} bonus points, "
                f"{self.tariff_changes} scheduled tariff changes, {self.paused} paused contracts at the pause fee.")


def period_start_day(account: Account) -> int:
    """Mobile lines start their period on the 1st; home contracts on their billing day."""
    return account.home_contract.billing_day if account.home_contract else 1


def billed_at(day: date) -> datetime:
    """The stamp of what a run bills for ``day``: the day itself, not the wall clock (a catch-up run after
    midnight must not move a fee or the points into the next day or month). Midnight naive UTC, the same
    boundary the packages and the bonus periods use, and the same date in every Russian time zone."""
    return datetime.combine(day, datetime.min.time())


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=day.day)


def _month_after(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=day.day)


def run_billing(session: Session, *, day: date, now: datetime, autopay: AutopaySettings | None = None,
                kopecks_per_point: int | None = None) -> RunReport:
    """Monthly fees and fresh packages on each account's period start; overdue promises suspend;
    then the auto-payments due (after the fees, so a threshold rule sees the balance they left)."""
    report = RunReport(day)
    ids = session.scalars(select(Account.id).where(Account.status.in_(BILLED)).order_by(Account.id)).all()
    for account_id in ids:
        account = lock_account(session, account_id,
                               options=[selectinload(Account.tariff), selectinload(Account.home_contract)])
        report.accounts += 1
        pause = advance_pauses(session, account, day=day) if account.home_contract else None
        if day.day == min(period_start_day(account), 28):
            if account.home_contract:
                report.tariff_changes += apply_scheduled_changes(session, account, day=day, now=now)
            _start_period(session, account, day, now, report, pause)
            if kopecks_per_point:
                start = datetime.combine(day, datetime.min.time())
                previous = datetime.combine(_month_before(day), datetime.min.time())
                report.points += award_for_period(session, account, start=previous, end=start,
                                                  kopecks_per_point=kopecks_per_point, now=billed_at(day))
        _charge_daily_fees(session, account, day, now, report)
        _expire_promises(session, account, day, now, report)
        session.commit()
    if autopay is not None:
        report.autopaid, report.autopay_failed = run_due(session, autopay.provider_for(session), day=day, now=now,
                                                         max_failures=autopay.max_failures, brand=autopay.brand,
                                                         sms_locale=autopay.sms_locale)
    return report


def _charge(session: Session, account: Account, *, amount: int, kind: str, key: str, description,
            now: datetime, report: RunReport) -> None:
    if not amount or session.scalar(select(LedgerEntry.id).where(LedgerEntry.idempotency_key == key)):
        return
    ledger.post(session, account, amount=-amount, kind=kind, key=key, description=description, now=now,
                dated=billed_at(report.day))
    report.charges += 1
    report.charged += amount


def _start_period(session: Session, account: Account, day: date, now: datetime, report: RunReport,
                  pause: HomePause | None = None) -> None:
    tariff = account.tariff
    key = f"bill:{day}:{account.id}:tariff"  # one key for both fees: a period is charged one or the other
    if pause is not None:
        report.paused += 1
        _charge(session, account, amount=pause.monthly_fee, kind="tariff_fee", key=key,
                now=now, report=report,
                description=_l("Monthly fee while paused until %(date)s", date=pause.last_day))
    elif tariff is not None:
        _charge(session, account, amount=tariff.monthly_fee, kind="tariff_fee", key=key,
                description=_l("Monthly fee, tariff %(name)s", name=tariff.name), now=now, report=report)
    for subscription in active_subscriptions(session, account.id) if pause is None else ():
        _charge(session, account, amount=subscription.service.monthly_fee, kind="service_fee",
                key=f"bill:{day}:sub:{subscription.id}", description=_l("Monthly fee: %(name)s",
                                                                       name=subscription.service.name),
                now=now, report=report)
    start = datetime.combine(day, datetime.min.time())
    exists = session.scalar(select(Allowance.id).where(Allowance.account_id == account.id,
                                                       Allowance.period_start == start))
    if tariff is not None and not exists:
        session.add(Allowance(account_id=account.id, period_start=start,
                              period_end=datetime.combine(_month_after(day), datetime.min.time()),
                              minutes_total=tariff.minutes, minutes_left=tariff.minutes, sms_total=tariff.sms,
                              sms_left=tariff.sms, mms_total=tariff.mms, mms_left=tariff.mms,
                              data_mb_total=tariff.data_mb, data_mb_left=tariff.data_mb))
        report.allowances += 1


def _charge_daily_fees(session: Session, account: Account, day: date, now: datetime, report: RunReport) -> None:
    """Services with a daily fee, for each day the line is active (the day of connection was paid then)."""
    if account.status != AccountStatus.active.value:
        return
    start = datetime.combine(day, datetime.min.time())
    for subscription in active_subscriptions(session, account.id):
        if subscription.service.daily_fee and subscription.since < start:
            _charge(session, account, amount=subscription.service.daily_fee, kind="service_fee",
                    key=f"bill:{day}:day:{subscription.id}", now=now, report=report,
                    description=_l("Daily fee: %(name)s", name=subscription.service.name))


def _expire_promises(session: Session, account: Account, day: date, now: datetime, report: RunReport) -> None:
    end_of_day = datetime.combine(day + timedelta(days=1), datetime.min.time())
    overdue = session.scalars(select(PromisedPayment).where(PromisedPayment.account_id == account.id,
                                                            PromisedPayment.status == "open",
                                                            PromisedPayment.due_at < end_of_day)).all()
    for promise in overdue:
        promise.status = "overdue"
        record(session, SYSTEM, "promised_payment_overdue", obj=promise, account_id=account.id)
    if overdue and account.status == AccountStatus.active.value:
        account.status = AccountStatus.suspended.value
        record(session, SYSTEM, "account_suspended", obj=account, account_id=account.id,
               detail="unpaid promised payment")
        report.suspended.append(account.id)
