"""Call-detail totals from daily roll-ups equal the totals counted from the records."""
import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import details
from portal.domain.history import Period
from portal.models import UsageDay, UsageRecord
from tests import factories

KINDS = ("call_out", "call_in", "sms", "mms", "data")


@pytest.fixture
def line(db_session):
    account = factories.make_line(db_session, "+79161234567")
    other = factories.make_line(db_session, "+79031112233")
    rng = random.Random(7)
    start = datetime(2026, 9, 1)
    for account_id in (account.id, other.id):
        db_session.add_all([UsageRecord(account_id=account_id, kind=rng.choice(KINDS), counterpart="+79990000000",
                                        started_at=start + timedelta(minutes=rng.randrange(90 * 24 * 60)),
                                        quantity=rng.randrange(1, 5000), cost=rng.randrange(0, 500))
                            for _ in range(600)])
    db_session.commit()
    return account


def raw(db_session, account_id, period, kinds):
    start, end = period.bounds
    return details._raw_totals(db_session, account_id, start, end, kinds)


@pytest.mark.parametrize("tz", ["UTC", "Europe/Moscow", "Asia/Vladivostok", "America/New_York"])
@pytest.mark.parametrize("kinds", [(), ("call_out", "call_in", "call_missed"), ("data",)])
def test_rolled_up_totals_equal_the_records(db_session, line, tz, kinds):
    details.roll_up(db_session, since=date(2026, 9, 1), through=date(2026, 10, 20))  # not the last days
    for start, end in ((date(2026, 9, 1), date(2026, 11, 28)), (date(2026, 9, 15), date(2026, 9, 15)),
                       (date(2026, 10, 19), date(2026, 10, 25)), (date(2026, 10, 25), date(2026, 11, 2))):
        period = Period(start, end, tz)
        assert details.totals(db_session, line.id, period, kinds) == raw(db_session, line.id, period, kinds)


def test_a_rebuilt_day_counts_records_that_arrived_late(db_session, line):
    details.roll_up(db_session, since=date(2026, 9, 1), through=date(2026, 11, 27))
    db_session.add(UsageRecord(account_id=line.id, kind="sms", started_at=datetime(2026, 11, 26, 10), quantity=1,
                               cost=250))
    db_session.commit()
    period = Period(date(2026, 11, 1), date(2026, 11, 27), "UTC")
    assert details.totals(db_session, line.id, period, ()) != raw(db_session, line.id, period, ())
    details.roll_up(db_session, through=date(2026, 11, 27))  # the nightly run redoes the last 3 days
    assert details.totals(db_session, line.id, period, ()) == raw(db_session, line.id, period, ())


def test_without_roll_ups_the_records_are_counted(db_session, line):
    period = Period(date(2026, 8, 1), date(2026, 12, 31), "Europe/Moscow")
    assert db_session.scalar(select(func.count()).select_from(UsageDay)) == 0
    assert details.totals(db_session, line.id, period, ()).count == 600  # every record of the line


def test_the_cli_and_the_nightly_task(app, db_session, line):
    result = app.test_cli_runner().invoke(args=["usage", "rollup", "--since", "2026-09-01", "--through",
                                                "2026-11-27"])
    assert result.exit_code == 0 and "88 day(s)" in result.output
    from portal.extensions import celery

    assert celery.conf.beat_schedule["usage-rollup"]["task"] == "portal.usage_rollup"
