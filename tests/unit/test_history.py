from datetime import date, datetime

import pytest

from portal.domain import history
from portal.models import LedgerEntry
from tests import factories

TODAY = date(2026, 11, 28)


def test_a_period_must_be_ordered_past_and_at_most_a_year():
    assert history.check_period(date(2026, 1, 1), TODAY, today=TODAY).bounds == \
        (datetime(2026, 1, 1), datetime(2026, 11, 29))
    for start, end in ((TODAY, date(2026, 1, 1)), (date(2026, 1, 1), date(2026, 12, 1)),
                       (date(2025, 1, 1), TODAY)):
        with pytest.raises(history.BadPeriod):
            history.check_period(start, end, today=TODAY)


def test_monthly_spending_groups_expenses_by_category_and_month(db_session):
    account = factories.make_line(db_session, balance=0)
    for amount, kind, when in ((-500, "tariff_fee", datetime(2026, 11, 1)), (-20, "usage", datetime(2026, 11, 5)),
                               (-30, "usage", datetime(2026, 10, 31, 23)), (900, "card_topup", datetime(2026, 11, 2)),
                               (-7, "transfer_out", datetime(2026, 6, 1)), (-1, "usage", datetime(2026, 5, 31))):
        db_session.add(LedgerEntry(account_id=account.id, amount=amount, kind=kind, created_at=when))
    db_session.commit()
    months = dict(history.monthly_spending(db_session, account.id, months=6, today=TODAY))
    assert list(months) == [date(2026, m, 1) for m in range(6, 12)]
    assert months[date(2026, 11, 1)] == {"tariff": 500, "services": 0, "usage": 20, "other": 0}
    assert months[date(2026, 10, 1)]["usage"] == 30
    assert months[date(2026, 6, 1)]["other"] == 7


def test_pages_continue_before_the_last_id(db_session):
    account = factories.make_line(db_session, balance=0)
    for i in range(5):
        db_session.add(LedgerEntry(account_id=account.id, amount=-i - 1, kind="usage",
                                   created_at=datetime(2026, 11, 1)))
    db_session.commit()
    period = history.Period(date(2026, 11, 1), TODAY)
    first, next_before = history.entries_page(db_session, account.id, period, [], size=3)
    rest, none = history.entries_page(db_session, account.id, period, [], before_id=next_before, size=3)
    assert [e.amount for e in first + rest] == [-5, -4, -3, -2, -1] and none is None


def test_a_period_is_whole_days_of_the_customers_zone():
    period = history.check_period(date(2026, 11, 26), date(2026, 11, 26), today=TODAY, tz="Europe/Moscow")
    assert period.bounds == (datetime(2026, 11, 25, 21), datetime(2026, 11, 26, 21))


def test_monthly_spending_uses_the_customers_months(db_session):
    account = factories.make_line(db_session, balance=0)
    # 23:30 UTC on 31 October is already 1 November in Moscow.
    db_session.add(LedgerEntry(account_id=account.id, amount=-100, kind="usage",
                               created_at=datetime(2026, 10, 31, 23, 30)))
    db_session.commit()
    months = dict(history.monthly_spending(db_session, account.id, months=2, today=TODAY, tz="Europe/Moscow"))
    assert months[date(2026, 11, 1)]["usage"] == 100 and months[date(2026, 10, 1)]["usage"] == 0
