from datetime import date, datetime, timedelta

from portal.domain.balance.forecast import balance_forecast, days_left, everyday_spend, next_period_start
from portal.models import LedgerEntry
from tests import factories

NOW = datetime(2026, 12, 10, 12, 0)
TODAY = NOW.date()


def _charge(session, account, amount, kind, *, days_ago, key=None):
    session.add(LedgerEntry(account_id=account.id, amount=-amount, kind=kind, idempotency_key=key,
                            created_at=NOW - timedelta(days=days_ago)))
    session.flush()


def test_next_period_start_is_after_today_and_keeps_the_28th_rule():
    assert next_period_start(date(2026, 12, 10), 1) == date(2027, 1, 1)
    assert next_period_start(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert next_period_start(date(2026, 12, 10), 15) == date(2026, 12, 15)
    assert next_period_start(date(2027, 1, 30), 31) == date(2027, 2, 28)


def test_days_left_counts_everyday_spending():
    # 100 ₽ at 10 ₽ a day: the 10th day leaves zero, the 11th goes below.
    assert days_left(10000, daily_spend=1000, monthly_charge=0, next_charge_on=date(2027, 6, 1), today=TODAY) == 10


def test_the_monthly_charge_comes_on_its_day():
    # 500 ₽ with 1 ₽ a day: the 450 ₽ fee on 1 January (22 days ahead) leaves 28 ₽, 28 more days.
    assert days_left(50000, daily_spend=100, monthly_charge=45000, next_charge_on=date(2027, 1, 1),
                     today=TODAY) == 50
    # Too little for the fee: the money ends the day before it.
    assert days_left(30000, daily_spend=100, monthly_charge=45000, next_charge_on=date(2027, 1, 1),
                     today=TODAY) == 21


def test_money_that_lasts_past_the_horizon_has_no_figure():
    assert days_left(10_000_000, daily_spend=100, monthly_charge=0, next_charge_on=date(2027, 1, 1),
                     today=TODAY) is None
    assert days_left(-1, daily_spend=0, monthly_charge=0, next_charge_on=date(2027, 1, 1), today=TODAY) == 0


def test_everyday_spend_leaves_out_monthly_and_one_off_fees_transfers_and_old_charges(db_session):
    account = factories.make_line(db_session)
    _charge(db_session, account, 4500, "usage", days_ago=2)
    _charge(db_session, account, 1500, "service_fee", days_ago=5, key="bill:2026-12-05:day:7")  # a daily fee
    _charge(db_session, account, 1500, "service_fee", days_ago=6, key="svc:abc:connect")  # a connection fee
    _charge(db_session, account, 5000, "tariff_fee", days_ago=6, key="tariff:abc")  # a tariff switch
    _charge(db_session, account, 45000, "tariff_fee", days_ago=9, key="bill:2026-12-01:tariff")
    _charge(db_session, account, 5000, "service_fee", days_ago=9, key="bill:2026-12-01:sub:3")
    _charge(db_session, account, 90000, "transfer_out", days_ago=1)
    _charge(db_session, account, 90000, "usage", days_ago=31)
    assert everyday_spend(db_session, account.id, now=NOW) == 200  # 60 ₽ / 30 days


def test_forecast_for_an_account(db_session):
    account = factories.make_line(db_session, balance=10000)
    _charge(db_session, account, 30000, "usage", days_ago=3)
    forecast = balance_forecast(db_session, account, monthly_charge=45000, start_day=1, now=NOW, today=TODAY)
    assert (forecast.daily_spend, forecast.next_charge_on, forecast.days) == (1000, date(2027, 1, 1), 10)


def test_nothing_spent_and_nothing_due_gives_no_forecast(db_session):
    account = factories.make_line(db_session, balance=0)
    forecast = balance_forecast(db_session, account, monthly_charge=0, start_day=1, now=NOW, today=TODAY)
    assert forecast.days is None
