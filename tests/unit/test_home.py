from datetime import date, datetime, timedelta

import pytest

from portal.domain.home import billing_period, home_overview
from portal.models import Account, HomeContract, PromisedPayment, UsageRecord
from tests import factories


@pytest.mark.parametrize(("billing_day", "today", "period"), [
    (1, date(2026, 11, 28), (date(2026, 11, 1), date(2026, 12, 1))),
    (15, date(2026, 11, 14), (date(2026, 10, 15), date(2026, 11, 15))),
    (15, date(2026, 11, 15), (date(2026, 11, 15), date(2026, 12, 15))),
    (15, date(2026, 12, 20), (date(2026, 12, 15), date(2027, 1, 15))),
    (31, date(2026, 2, 28), (date(2026, 2, 28), date(2026, 3, 28))),  # the billing run uses the 28th at most
    (10, date(2026, 1, 5), (date(2025, 12, 10), date(2026, 1, 10))),
])
def test_billing_periods(billing_day, today, period):
    assert billing_period(billing_day, today) == period


@pytest.fixture
def contract(db_session):
    customer = factories.make_customer(db_session)
    tariff = factories.make_tariff(db_session, kind="home", data_mb=100 * 1024, speed_mbps=100)
    account = Account(customer=customer, kind="home", region=customer.region, tariff=tariff, balance=0)
    db_session.add_all([account, HomeContract(account=account, contract_no="HC-1", address="Moscow",
                                              connection_type="gpon", billing_day=10)])
    db_session.flush()
    tv = factories.make_service(db_session, kind="tv", category="tv", name="TV: Basic")
    extra = factories.make_service(db_session, kind="home", category="home", name="Antivirus")
    for service in (tv, extra):
        factories.make_subscription(db_session, account, service)
    db_session.commit()
    return account


def test_the_overview_counts_this_periods_traffic_and_sorts_services(db_session, contract):
    now = datetime(2026, 11, 28, 12, 0)
    for started, kb in ((datetime(2026, 11, 9, 23), 5 * 1024 * 1024), (datetime(2026, 11, 10, 1), 2 * 1024 * 1024),
                        (datetime(2026, 11, 20), 1024 * 1024)):
        db_session.add(UsageRecord(account_id=contract.id, kind="data", started_at=started, quantity=kb))
    db_session.add(PromisedPayment(account_id=contract.id, amount=30000, idempotency_key="p1",
                                   created_at=now, due_at=now + timedelta(days=15)))
    db_session.commit()
    home = home_overview(db_session, contract, today=now.date(), now=now)
    assert (home.period_start, home.last_day, home.days_left) == (date(2026, 11, 10), date(2026, 12, 9), 12)
    assert home.used_mb == 3 * 1024 and home.limit_mb == 100 * 1024
    assert [s.service.name for s in home.tv] == ["TV: Basic"] and [s.service.name for s in home.extras] == ["Antivirus"]
    assert home.promise.amount == 30000 and home.promise_days_left == 15


@pytest.mark.parametrize(("left", "days"), [(timedelta(days=15) - timedelta(seconds=1), 15),
                                            (timedelta(hours=1), 1), (timedelta(days=2), 2),
                                            (-timedelta(hours=3), 0)])
def test_the_promise_countdown_counts_started_days(db_session, contract, left, days):
    now = datetime(2026, 11, 28, 12, 0)
    db_session.add(PromisedPayment(account_id=contract.id, amount=30000, idempotency_key="p1",
                                   created_at=now - timedelta(days=1), due_at=now + left))
    db_session.commit()
    assert home_overview(db_session, contract, today=now.date(), now=now).promise_days_left == days


def test_the_dashboard_and_the_traffic_page_count_the_same_days(db_session, contract):
    from portal.domain.history import Period
    from portal.domain.home import daily_traffic

    now = datetime(2026, 11, 28, 12, 0)
    # 22:30 UTC on the 9th is the 10th in Moscow: this period's in Moscow, the last one's in UTC.
    db_session.add(UsageRecord(account_id=contract.id, kind="data", started_at=datetime(2026, 11, 9, 22, 30),
                               quantity=1024 * 1024))
    db_session.commit()
    moscow = home_overview(db_session, contract, today=now.date(), now=now, tz="Europe/Moscow")
    per_day = daily_traffic(db_session, contract.id, Period(date(2026, 11, 10), date(2026, 11, 28), "Europe/Moscow"))
    assert moscow.used_mb == sum(kb for _, kb in per_day) // 1024 == 1024
    assert home_overview(db_session, contract, today=now.date(), now=now).used_mb == 0
