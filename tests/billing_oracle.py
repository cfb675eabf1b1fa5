"""The billing run as it was before the set-based batches: account by account, one transaction each.

Kept only as the oracle of tests/unit/test_billing_equivalence.py (the production run is
portal.domain.billing); it must not change with the production code, so the two can be compared.
"""
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.domain import alerts, ledger
from portal.domain.accounts import lock_account
from portal.domain.audit import SYSTEM, record
from portal.domain.billing import BILLED, RunReport
from portal.domain.billing.batch import billed_at
from portal.domain.bonus import award_for_period
from portal.domain.home_pause import advance_pauses
from portal.domain.overview import active_subscriptions
from portal.domain.tariffs import apply_scheduled_changes
from portal.models import Account, AccountStatus, Allowance, HomePause, LedgerEntry, PromisedPayment


def period_start_day(account: Account) -> int:
    return account.home_contract.billing_day if account.home_contract else 1


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=day.day)


def _month_after(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=day.day)


def run_billing_per_account(session: Session, *, day: date, now: datetime,
                            kopecks_per_point: int | None = None) -> RunReport:
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
    key = f"bill:{day}:{account.id}:tariff"
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
        alerts.suspended(session, account=account, now=now)
        report.suspended.append(account.id)
