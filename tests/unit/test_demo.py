"""The demo data: realistic, consistent (balances are ledger sums) and idempotent."""
import re
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, or_, select, update

from portal.domain.demo import seed_demo
from portal.domain.phones import parse_msisdn
from portal.extensions import db
from portal.models import (
    Account,
    Allowance,
    AutoPayment,
    BonusAccount,
    BonusEntry,
    CardToken,
    Customer,
    DevMethod,
    HomeContract,
    LedgerEntry,
    Line,
    Login,
    LoginAccount,
    Service,
    Staff,
    Subscription,
    Tariff,
    TvChannel,
    UsageRecord,
    utcnow,
)

DEMO_LINES = ("+79161234567", "+79161234568", "+79031112233", "+79262223344")
LEDGER_KINDS = {"card_topup", "tariff_fee", "service_fee", "usage", "bonus", "adjustment"}
NOW = datetime(2025, 3, 14, 9, 30)


def row_counts(session) -> dict[str, int]:
    return {table.name: session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def account_of(session, msisdn: str) -> Account:
    return session.scalar(select(Account).join(Line).where(Line.msisdn == msisdn))


def usage_fingerprint(session) -> list[tuple]:
    return session.execute(
        select(Line.msisdn, UsageRecord.started_at, UsageRecord.kind, UsageRecord.counterpart, UsageRecord.quantity,
               UsageRecord.cost)
        .join(Line, Line.account_id == UsageRecord.account_id, isouter=True)
        .order_by(UsageRecord.account_id, UsageRecord.started_at, UsageRecord.kind, UsageRecord.counterpart)
    ).all()


@pytest.fixture
def seeded(db_session):
    summary = seed_demo(db_session)
    return db_session, summary


def test_a_second_run_adds_nothing(seeded):
    session, summary = seeded
    assert summary.startswith("Demo data loaded") and "\n" not in summary
    before = row_counts(session)
    assert before["usage_record"] > 0 and before["ledger_entry"] > 0

    again = seed_demo(session)

    assert "nothing added" in again and "\n" not in again
    assert row_counts(session) == before


def test_no_passwords_and_no_staff(seeded):
    session, _ = seeded
    assert session.scalar(select(func.count()).select_from(Staff)) == 0
    assert session.scalars(select(Login.password_hash)).all() == [None]  # the family head's, for the saved card
    login = session.scalar(select(Login))
    assert session.scalars(select(LoginAccount.account_id)).all() == [login.primary_account_id]


def test_the_auto_payment_card_in_the_history_is_a_saved_card_with_its_rule(seeded):
    session, _ = seeded
    # Written in the operator's language: Russian in production, English under the tests' default locale.
    autopaid = session.scalars(select(LedgerEntry).where(or_(LedgerEntry.description.like("Автоплатёж%"),
                                                             LedgerEntry.description.like("Auto-payment%")))).all()
    assert autopaid
    for entry in autopaid:
        last4 = re.search(r"\*(\d{4})", entry.description).group(1)
        login = session.scalar(select(Login).where(Login.primary_account_id == entry.account_id))
        cards = {c.last4: c for c in session.scalars(select(CardToken).where(CardToken.login_id == login.id))}
        assert last4 in cards
        rule = session.scalar(select(AutoPayment).where(AutoPayment.account_id == entry.account_id))
        assert rule.card_token_id == cards[last4].id and rule.amount == entry.amount and rule.enabled
        # The development provider holds that card, so `make run`'s billing run can charge it.
        assert session.scalar(select(DevMethod.last4).where(DevMethod.token == cards[last4].gateway_token)) == last4
        month, year = map(int, cards[last4].expiry.split("/"))
        assert (2000 + year, month) > (utcnow().year, utcnow().month)


def test_bonus_points_have_an_earned_history(seeded):
    session, _ = seeded
    for bonus in session.scalars(select(BonusAccount)):
        entries = session.scalars(select(BonusEntry).where(BonusEntry.account_id == bonus.account_id)).all()
        assert sum(e.points for e in entries) == bonus.points
        earned = [e for e in entries if e.kind == "earned"]
        assert len(earned) >= 3 and all(e.points > 0 and e.created_at <= utcnow() for e in earned)
        assert len({e.created_at.month for e in earned}) == len(earned)  # one award a month


def test_the_catalog(seeded):
    session, _ = seeded
    mobile = session.scalars(select(Tariff).where(Tariff.kind == "mobile")).all()
    assert len([t for t in mobile if not t.archived]) >= 5
    assert any(t.archived for t in mobile)
    assert 2 <= session.scalar(select(func.count()).select_from(Tariff).where(Tariff.kind == "home")) <= 3
    services = session.scalars(select(Service)).all()
    assert len(services) >= 15
    categories = {s.category for s in services}
    assert len(categories) >= 6
    assert {"calls", "internet", "roaming", "entertainment", "security", "number_management", "subscription",
            "tv"} <= categories
    number_management = next(s for s in services if s.code == "number-management")
    assert number_management.monthly_fee == 0 and number_management.connection_fee == 0
    assert any(s.kind == "tv" for s in services) and any(s.kind == "home" for s in services)
    assert any(s.tariffs for s in services)
    for item in [*mobile, *services]:
        fees = [item.monthly_fee, getattr(item, "switch_fee", 0), getattr(item, "connection_fee", 0)]
        assert all(type(fee) is int and fee >= 0 for fee in fees)
        assert item.description


def test_the_customers(seeded):
    session, _ = seeded
    customers = session.scalars(select(Customer)).all()
    assert len(customers) >= 3
    assert {c.region for c in customers} >= {"Moscow", "Saint Petersburg"}

    head = account_of(session, "+79161234567").customer
    assert account_of(session, "+79161234568").customer_id == head.id
    kinds = sorted(a.kind for a in head.accounts)
    assert kinds == ["home", "mobile", "mobile"]
    contract = session.scalar(select(HomeContract).where(HomeContract.contract_no == "HC-100200"))
    assert contract.account.customer_id == head.id
    assert contract.connection_type == "gpon" and contract.address
    assert contract.account.tariff.kind == "home"

    assert account_of(session, "+79031112233").customer_id != head.id
    third = account_of(session, "+79262223344")
    assert third.status == "blocked_by_owner" or third.balance < 10000
    for account in session.scalars(select(Account)):
        assert account.tariff is not None and account.tariff.kind == account.kind


def test_every_number_is_e164(seeded):
    session, _ = seeded
    numbers = set(session.scalars(select(Line.msisdn)))
    assert numbers >= set(DEMO_LINES)
    numbers |= {n for n in session.scalars(select(HomeContract.contact_phone)) if n}
    for msisdn in numbers:
        assert msisdn.startswith("+") and msisdn[1:].isdigit()
        assert parse_msisdn(msisdn) == msisdn


def test_every_balance_is_the_sum_of_its_ledger(seeded):
    session, _ = seeded
    went_negative = False
    now = utcnow()
    for account in session.scalars(select(Account)):
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.account_id == account.id)
                                  .order_by(LedgerEntry.created_at, LedgerEntry.id)).all()
        assert len(entries) >= 10
        assert type(account.balance) is int
        assert sum(e.amount for e in entries) == account.balance
        running = 0
        for entry in entries:
            assert type(entry.amount) is int and entry.amount != 0
            assert entry.kind in LEDGER_KINDS
            assert entry.created_at <= now
            running += entry.amount
            went_negative |= running < 0
        assert now - entries[0].created_at > timedelta(days=150)  # spread over the last months
    assert went_negative, "one history dips below zero"
    kinds = set(session.scalars(select(LedgerEntry.kind).distinct()))
    assert kinds == LEDGER_KINDS


def test_usage_covers_six_months_of_every_line(seeded):
    session, _ = seeded
    now = utcnow()
    for msisdn in DEMO_LINES:
        account = account_of(session, msisdn)
        first, last, count = session.execute(
            select(func.min(UsageRecord.started_at), func.max(UsageRecord.started_at), func.count())
            .where(UsageRecord.account_id == account.id)).one()
        assert timedelta(days=175) < now - first < timedelta(days=190), msisdn
        assert last <= now
        if account.status == "active":
            assert now - last < timedelta(days=2)
        days = (last - first).days + 1
        assert 5 <= count / days <= 25, msisdn
        kinds = set(session.scalars(select(UsageRecord.kind).where(UsageRecord.account_id == account.id)))
        assert {"call_out", "call_in", "call_missed", "sms", "data"} <= kinds
    incoming = session.scalars(select(UsageRecord.cost).where(UsageRecord.kind.in_(["call_in", "call_missed"])))
    assert set(incoming) == {0}
    assert session.scalar(select(func.count()).where(UsageRecord.kind == "data", UsageRecord.quantity <= 0)) == 0
    assert session.scalar(select(func.sum(UsageRecord.cost))) > 0
    home = session.scalar(select(HomeContract).where(HomeContract.contract_no == "HC-100200"))
    sessions = session.scalars(select(UsageRecord).where(UsageRecord.account_id == home.account_id)).all()
    assert len(sessions) > 150 and {u.kind for u in sessions} == {"data"}
    assert all(u.started_at <= now for u in sessions)
    # Sessions, as the traffic statistics list them: an end (or still on) and an address, three months and more.
    assert all(u.ip and u.ip.startswith("100.") for u in sessions)
    assert all(u.ended_at is None or u.started_at < u.ended_at <= now for u in sessions)
    assert sum(u.ended_at is not None for u in sessions) > 150
    assert min(u.started_at for u in sessions) <= now - timedelta(days=92)
    mobile = session.scalars(select(UsageRecord.ip).where(UsageRecord.account_id != home.account_id).limit(50))
    assert set(mobile) == {None}


def test_allowances_of_the_current_period(seeded):
    session, _ = seeded
    now = utcnow()
    start = datetime(now.year, now.month, 1)
    end = datetime(now.year + now.month // 12, now.month % 12 + 1, 1)
    for msisdn in DEMO_LINES:
        account = account_of(session, msisdn)
        allowance = session.scalar(select(Allowance).where(Allowance.account_id == account.id))
        assert (allowance.period_start, allowance.period_end) == (start, end)
        tariff = account.tariff
        assert (allowance.minutes_total, allowance.sms_total, allowance.mms_total, allowance.data_mb_total) == (
            tariff.minutes, tariff.sms, tariff.mms, tariff.data_mb)
        assert 0 <= allowance.minutes_left <= allowance.minutes_total
        assert 0 <= allowance.sms_left <= allowance.sms_total
        assert 0 <= allowance.data_mb_left <= allowance.data_mb_total
    home = session.scalar(select(HomeContract).where(HomeContract.contract_no == "HC-100200"))
    assert session.scalar(select(Allowance).where(Allowance.account_id == home.account_id)) is None


def test_subscriptions(seeded):
    session, _ = seeded
    active = session.scalars(select(Subscription).where(Subscription.status == "active")).all()
    assert len(active) >= 5
    assert any(s.service.category == "subscription" for s in active)
    assert any(s.service.code == "number-management" for s in active)
    assert all(s.since <= utcnow() and s.until is None for s in active)
    for sub in session.scalars(select(Subscription).where(Subscription.status == "ended")):
        assert sub.since < sub.until <= utcnow()


def balances_by_key(session) -> dict[str, int]:
    lines = session.execute(select(Line.msisdn, Account.balance).join(Account)).all()
    homes = session.execute(select(HomeContract.contract_no, Account.balance).join(Account)).all()
    return dict(lines + homes)


def test_a_partly_seeded_database_is_completed_and_reproduced(db_session):
    seed_demo(db_session, now=NOW)
    counts, usage, balances = row_counts(db_session), usage_fingerprint(db_session), balances_by_key(db_session)
    assert usage and max(u.started_at for u in usage) <= NOW

    # Lose part of it: one line's usage, services, allowance, payments and fees; the home contract's last
    # six weeks of sessions; every cached balance.
    line = account_of(db_session, "+79031112233")
    home = db_session.scalar(select(HomeContract).where(HomeContract.contract_no == "HC-100200"))
    db_session.execute(delete(UsageRecord).where(UsageRecord.account_id == line.id))
    db_session.execute(delete(UsageRecord).where(UsageRecord.account_id == home.account_id,
                                                 UsageRecord.started_at >= datetime(2025, 2, 1)))
    db_session.execute(delete(Subscription).where(Subscription.account_id == line.id))
    db_session.execute(delete(Allowance).where(Allowance.account_id == line.id))
    db_session.execute(delete(LedgerEntry).where(LedgerEntry.account_id == line.id,
                                                 LedgerEntry.kind.in_(["card_topup", "tariff_fee"])))
    db_session.execute(update(Account).values(balance=0))
    db_session.commit()
    assert row_counts(db_session) != counts

    summary = seed_demo(db_session, now=NOW)

    assert summary.startswith("Demo data loaded") and "customers" not in summary
    assert row_counts(db_session) == counts
    assert usage_fingerprint(db_session) == usage  # the same records again: the history is deterministic
    assert balances_by_key(db_session) == balances


def test_demo_lines_have_bonus_points(db_session):
    from sqlalchemy import select

    from portal.domain.demo import seed_demo
    from portal.models import BonusAccount, Line

    seed_demo(db_session)
    points = dict(db_session.execute(select(Line.msisdn, BonusAccount.points)
                                     .join(BonusAccount, BonusAccount.account_id == Line.account_id)).all())
    assert points["+79161234567"] > 0 and len(points) == 4


def test_demo_vouchers_can_be_redeemed(db_session):
    from portal.domain import vouchers
    from portal.domain.audit import Actor
    from portal.domain.demo import DEMO_VOUCHERS, seed_demo
    from portal.models import Line, utcnow

    seed_demo(db_session, voucher_key="k")
    seed_demo(db_session, voucher_key="k")  # no duplicates
    account_id = db_session.scalar(select(Line.account_id).where(Line.msisdn == "+79161234567"))
    code, pin, amount = DEMO_VOUCHERS[0]
    used = vouchers.redeem_voucher(db_session, account_id=account_id, code=code, pin=pin, key="k", max_failures=5,
                                   actor=Actor(), now=utcnow())
    assert used.amount == amount


# Columns that record when something happened (as opposed to deadlines, periods and plans).
HAPPENED = {"created_at", "updated_at", "sent_at", "received_at", "started_at", "ended_at", "since", "decided_at",
            "done_at", "used_at", "assigned_at", "applied_at", "finished_at", "repaid_at", "last_seen_at"}
EARLY_MORNING = datetime(2025, 3, 14, 4, 30)  # 07:30 in Moscow: before the hour of today's demo voicemail


def test_nothing_is_dated_after_the_seeding_moment(db_session):
    seed_demo(db_session, now=EARLY_MORNING, voucher_key="k")
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if column.name in HAPPENED:
                latest = db_session.scalar(select(func.max(column)))
                assert latest is None or latest <= EARLY_MORNING, f"{table.name}.{column.name} = {latest}"


CHANNEL_COUNT = re.compile(r"(\d+)\s+(?:\S+\s+){0,2}?\S*канал")


def test_tv_channel_counts_match_the_channel_lists(seeded):
    session, _ = seeded
    packages = session.scalars(select(Service).where(Service.kind == "tv")).all()
    carried = Counter(code for channel in session.scalars(select(TvChannel)) for code in
                      (p.code for p in channel.packages))
    said = 0
    for package in packages:
        for text in (package.name, package.description):
            for count in CHANNEL_COUNT.findall(text):
                assert int(count) == carried[package.code], f"{package.code}: {text}"
                said += 1
    tariff = session.scalar(select(Tariff).where(Tariff.code == "home-500-tv"))
    assert [int(n) for n in CHANNEL_COUNT.findall(tariff.description)] == [carried["tv-basic"]]
    assert said >= 4
