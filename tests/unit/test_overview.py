from portal.domain.overview import account_overview
from portal.models import utcnow
from tests import factories


def test_the_next_charge_adds_tariff_and_active_service_fees(db_session):
    account = factories.make_line(db_session, tariff=factories.make_tariff(db_session, monthly_fee=40000),
                                  balance=50000)
    factories.make_subscription(db_session, account, factories.make_service(db_session, monthly_fee=5000))
    factories.make_subscription(db_session, account, factories.make_service(db_session, monthly_fee=7000),
                                status="ended")
    overview = account_overview(db_session, account, tariff_fee=40000, now=utcnow())
    assert overview.next_charge == 45000
    assert not overview.low_balance(45000) and overview.low_balance(44999)


def test_no_allowance_outside_its_period(db_session):
    from datetime import timedelta

    account = factories.make_line(db_session)
    factories.make_allowance(db_session, account, now=utcnow() - timedelta(days=40))
    assert account_overview(db_session, account, tariff_fee=0, now=utcnow()).allowance is None


def test_a_line_without_bonus_account_has_zero_points(db_session):
    assert account_overview(db_session, factories.make_line(db_session), tariff_fee=0, now=utcnow()).bonus_points == 0


def test_one_row_gives_the_package_the_points_and_the_forecast_as_their_own_queries_do(db_session):
    from datetime import datetime, timedelta

    from portal.domain.balance.forecast import balance_forecast
    from portal.models import BonusAccount, LedgerEntry

    now = datetime(2026, 12, 10, 12, 0)
    account = factories.make_line(db_session, balance=10000)
    factories.make_allowance(db_session, account, now=now, minutes_left=42)
    db_session.add(BonusAccount(account_id=account.id, points=321))
    db_session.add(LedgerEntry(account_id=account.id, amount=-30000, kind="usage", created_at=now - timedelta(days=3)))
    db_session.add(LedgerEntry(account_id=factories.make_line(db_session, "+79160000001").id, amount=-90000,
                               kind="usage", created_at=now - timedelta(days=1)))  # another account's spending
    db_session.flush()
    overview = account_overview(db_session, account, tariff_fee=45000, now=now, today=now.date())
    assert (overview.allowance.minutes_left, overview.bonus_points) == (42, 321)
    assert overview.forecast == balance_forecast(db_session, account, monthly_charge=45000, start_day=1, now=now,
                                                 today=now.date())
    assert overview.forecast.days == 10
