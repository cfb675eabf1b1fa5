"""The set-based run against the per-account rules it replaced (tests/billing_oracle.py): the same data, the
same days, the same ledger (keys, amounts, kinds, statement params, dates), balances, packages, points,
statuses and audit events, and a low-balance alert to the same accounts."""
import random
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.domain import ledger
from portal.domain.billing import CATCH_UP_DAYS, RunReport, run_billing
from portal.domain.demo import seed_demo
from portal.extensions import db
from portal.models import (
    Account,
    AlertSettings,
    Allowance,
    AuditEvent,
    BonusAccount,
    BonusEntry,
    Customer,
    HeldAlert,
    HomeContract,
    HomePause,
    LedgerEntry,
    Line,
    PromisedPayment,
    ScheduledTariffChange,
    Service,
    SmsMessage,
    Subscription,
    Tariff,
)
from tests.billing_oracle import run_billing_per_account
from tests.conftest import empty_tables

STATUSES = ("active",) * 6 + ("blocked_by_owner", "blocked_lost", "suspended", "terminated")


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=hour, minutes=minute)


def build_random(session, seed: int, first_day: date, accounts: int = 40) -> None:
    """Accounts of every kind and state around ``first_day``: period starts on the 1st and on days 1–31,
    blocked and paused contracts, pauses starting and ending, scheduled tariff changes, daily fees,
    promises falling due, low-balance thresholds."""
    rng = random.Random(seed)
    tariffs = []
    for i in range(7):
        home = i >= 4
        tariffs.append(Tariff(code=f"t{i}", name=f"Tariff {rng.choice('ABCDEF')}{i}", kind="home" if home else "mobile",
                              monthly_fee=rng.choice((0, 25000, 40000, 55000, 99000)),
                              switch_fee=rng.choice((0, 0, 5000)), minutes=rng.choice((0, 300, 600)),
                              sms=rng.choice((0, 100)), mms=rng.choice((0, 10)), data_mb=rng.choice((0, 5120)),
                              pause_monthly_fee=rng.choice((None, 0, 9900)) if home else None,
                              change_effective="next_period" if home else "now"))
    services = [Service(code=f"s{i}", name=f"Service {i}", category="extra", kind="mobile",
                        monthly_fee=rng.choice((0, 3000, 9900)), daily_fee=rng.choice((0, 0, 150, 500)))
                for i in range(6)]
    session.add_all(tariffs + services)
    session.flush()
    for n in range(accounts):
        home = rng.random() < 0.45
        customer = Customer(name=f"C{n}", region="Moscow", contract_no=f"C-{seed}-{n}")
        status = rng.choice(STATUSES)
        balance = rng.randrange(-20000, 120000)
        account = Account(customer=customer, kind="home" if home else "mobile", region="Moscow", status=status,
                          tariff=rng.choice([t for t in tariffs if t.kind == ("home" if home else "mobile")] + [None]),
                          balance=balance)
        session.add(account)
        session.flush()
        if home:
            session.add(HomeContract(account_id=account.id, contract_no=f"HC-{seed}-{n}", address="x",
                                     connection_type="gpon", contact_phone=f"+7916{seed % 100:02d}{n:05d}",
                                     billing_day=rng.choice((1, 2, 15, 27, 28, 29, 30, 31, first_day.day))))
        else:
            session.add(Line(account_id=account.id, msisdn=f"+7926{seed % 100:02d}{n:05d}"))
        if balance:
            session.add(LedgerEntry(account_id=account.id, amount=balance, kind="adjustment",
                                    created_at=at(first_day - timedelta(days=40))))
        for _ in range(rng.randrange(4)):
            service = rng.choice(services)
            session.add(Subscription(account_id=account.id, service_id=service.id,
                                     status=rng.choice(("active", "active", "ended")),
                                     since=at(first_day + timedelta(days=rng.randrange(-60, 6)), rng.randrange(24))))
        if rng.random() < 0.4:
            session.add(AlertSettings(account_id=account.id, low_balance_below=rng.choice((0, 5000, 30000, 60000))))
        if rng.random() < 0.3:
            due = at(first_day + timedelta(days=rng.randrange(-3, 8)), rng.randrange(24))
            session.add(PromisedPayment(account_id=account.id, amount=10000, fee=0, idempotency_key=f"p-{seed}-{n}",
                                        status=rng.choice(("open", "open", "overdue", "repaid")), due_at=due,
                                        created_at=due - timedelta(days=3)))
        if home and rng.random() < 0.5:
            start = first_day + timedelta(days=rng.randrange(-20, 8))
            pause_status = "active" if start <= first_day else "scheduled"
            if pause_status == "active" and status == "active":
                account.status = "blocked_by_owner"
            session.add(HomePause(account_id=account.id, start_on=start,
                                  resume_on=start + timedelta(days=rng.randrange(7, 40)),
                                  monthly_fee=rng.choice((0, 9900)), status=pause_status,
                                  created_at=at(start - timedelta(days=1))))
        if home and rng.random() < 0.4:
            session.add(ScheduledTariffChange(account_id=account.id, created_at=at(first_day - timedelta(days=5)),
                                              tariff_id=rng.choice([t for t in tariffs if t.kind == "home"]).id,
                                              effective_on=first_day + timedelta(days=rng.randrange(-3, 8))))
    session.commit()


def outcome(session) -> dict:
    """What a run leaves behind, without the row ids and wall-clock stamps that differ between two runs."""
    session.expire_all()
    rows = lambda stmt: sorted(session.execute(stmt).all(), key=repr)  # noqa: E731
    alerted = [to for to, in session.execute(select(SmsMessage.to).where(SmsMessage.purpose == "alert"))]
    alerted += [to for to, in session.execute(select(HeldAlert.to).where(HeldAlert.event == "low_balance"))]
    return {
        "ledger": rows(select(LedgerEntry.account_id, LedgerEntry.idempotency_key, LedgerEntry.amount,
                              LedgerEntry.kind, LedgerEntry.description, LedgerEntry.params,
                              LedgerEntry.created_at)),
        "accounts": rows(select(Account.id, Account.balance, Account.status, Account.tariff_id)),
        "allowances": rows(select(Allowance.account_id, Allowance.period_start, Allowance.period_end,
                                  Allowance.minutes_total, Allowance.sms_total, Allowance.mms_total,
                                  Allowance.data_mb_total, Allowance.data_mb_left)),
        "bonus": rows(select(BonusEntry.account_id, BonusEntry.points, BonusEntry.idempotency_key,
                             BonusEntry.description, BonusEntry.params, BonusEntry.created_at)),
        "points": rows(select(BonusAccount.account_id, BonusAccount.points)),
        "promises": rows(select(PromisedPayment.id, PromisedPayment.status)),
        "pauses": rows(select(HomePause.id, HomePause.status, HomePause.ended_on)),
        "changes": rows(select(ScheduledTariffChange.id, ScheduledTariffChange.status)),
        "audit": Counter(session.execute(select(AuditEvent.action, AuditEvent.account_id, AuditEvent.object_type,
                                                AuditEvent.object_id, AuditEvent.detail)).all()),
        "alerted": Counter(alerted),
    }


def with_missed_days(days: list[date]) -> list[list[date]]:
    """For each day run, the days the run bills: those missed since the day before (at most CATCH_UP_DAYS
    back), then the day itself."""
    out, last = [], None
    for day in days:
        first = day if last is None or day <= last else max(last + timedelta(days=1),
                                                            day - timedelta(days=CATCH_UP_DAYS))
        out.append([first + timedelta(days=n) for n in range((day - first).days + 1)])
        last = day if last is None else max(last, day)
    return out


def oracle_run(session, days: list[date], kopecks_per_point: int | None) -> RunReport:
    """The per-account rules over the missed days and the day, reported as the production run reports it."""
    *missed, day = days
    report = RunReport(day)
    for each in missed:
        report.add(run_billing_per_account(session, day=each, now=at(day, 0, 5), kopecks_per_point=kopecks_per_point))
    report.caught_up, report.accounts = report.accounts, 0
    report.add(run_billing_per_account(session, day=day, now=at(day, 0, 5), kopecks_per_point=kopecks_per_point))
    return report


def both_ways(session, build, days: list[date], kopecks_per_point: int | None) -> tuple[dict, dict, list, list]:
    build()
    old_reports = [oracle_run(session, run, kopecks_per_point) for run in with_missed_days(days)]
    expected = outcome(session)
    session.remove() if hasattr(session, "remove") else session.close()
    empty_tables()
    build()
    new_reports = [run_billing(db.session, day=day, now=at(day, 0, 5), kopecks_per_point=kopecks_per_point,
                               batch_size=7) for day in days]
    assert ledger.verify(db.session) == []
    return expected, outcome(db.session), old_reports, new_reports


def same_reports(old, new) -> None:
    for a, b in zip(old, new, strict=True):
        assert (a.accounts, a.caught_up, a.charges, a.charged, a.allowances, a.tariff_changes, a.paused, a.points,
                sorted(a.suspended)) == (b.accounts, b.caught_up, b.charges, b.charged, b.allowances,
                                         b.tariff_changes, b.paused, b.points, sorted(b.suspended))


# Month ends, period starts on the 28th (billing days 28–31), a short February, a day run twice, gaps of
# missed days (a week and more: the run bills the last CATCH_UP_DAYS of them first).
DAYS = [date(2027, 1, d) for d in (26, 27, 28, 28, 29, 30, 31)] + [date(2027, 2, d) for d in (1, 2, 14, 15, 27, 28)] \
    + [date(2027, 3, 1), date(2027, 3, 1), date(2027, 3, 2)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_set_based_run_writes_what_the_per_account_rules_wrote(db_session, seed):
    expected, got, old, new = both_ways(db_session, lambda: build_random(db.session, seed, DAYS[0]), DAYS,
                                        kopecks_per_point=1000)
    assert sum(len(v) for v in expected.values()) > 100 and len(expected["ledger"]) > 80
    for part in expected:
        assert got[part] == expected[part], part
    same_reports(old, new)


def test_the_set_based_run_over_the_demo_matches_too(db_session):
    now = datetime(2026, 11, 27, 9, 0)
    days = [date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 1),
            date(2026, 12, 2)]
    expected, got, old, new = both_ways(db_session, lambda: seed_demo(db.session, now=now), days,
                                        kopecks_per_point=1000)
    assert expected["ledger"] and expected["allowances"]
    for part in expected:
        assert got[part] == expected[part], part
    same_reports(old, new)
