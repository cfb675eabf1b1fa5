"""Call-detail records past the retention go, in short batches, never a day a customer may still ask for."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import ConfigError, create_app
from portal.domain import details
from portal.models import UsageDay, UsageRecord
from tests import factories

TODAY = date(2026, 12, 7)
CUTOFF = datetime(2026, 6, 6)  # six calendar months before today, less a day


def add(session, account_id, *moments):
    session.add_all([UsageRecord(account_id=account_id, started_at=moment, kind="call_out", counterpart="+79990000000",
                                 quantity=60, cost=100) for moment in moments])
    session.commit()


def records(session) -> list[datetime]:
    return sorted(session.scalars(select(UsageRecord.started_at)))


def test_the_cutoff_keeps_every_day_a_customer_may_ask_for():
    assert details.retention_cutoff(TODAY) == CUTOFF
    assert details.retention_cutoff(TODAY, 12) == datetime(2025, 12, 6)
    # The earliest day the details page offers starts after the cutoff in every Russian time zone (UTC+2…+12).
    earliest = datetime.combine(details.earliest_start(TODAY), datetime.min.time())
    assert earliest - timedelta(hours=12) >= CUTOFF
    with pytest.raises(ValueError, match="at least"):
        details.retention_cutoff(TODAY, details.MAX_MONTHS - 1)


def test_prune_deletes_only_what_is_older_than_the_retention_batch_by_batch(db_session):
    account = factories.make_line(db_session)
    old = [CUTOFF - timedelta(days=d, seconds=1) for d in range(7)]
    kept = [CUTOFF, CUTOFF + timedelta(days=30), datetime(2026, 12, 6, 23)]
    add(db_session, account.id, *old, *kept)
    db_session.add_all([UsageDay(account_id=account.id, day=day, kind="call_out", count=1, quantity=60, cost=100)
                        for day in (date(2026, 6, 5), date(2026, 6, 6), date(2026, 11, 1))])
    db_session.commit()

    assert details.prune(db_session, today=TODAY, batch=3) == 7  # three batches: 3 + 3 + 1
    assert records(db_session) == kept
    assert sorted(db_session.scalars(select(UsageDay.day))) == [date(2026, 6, 6), date(2026, 11, 1)]
    assert details.prune(db_session, today=TODAY) == 0  # run again: nothing more


def test_a_longer_retention_keeps_more(db_session):
    account = factories.make_line(db_session)
    add(db_session, account.id, datetime(2026, 3, 1), datetime(2025, 11, 1))
    assert details.prune(db_session, today=TODAY, months=12) == 1
    assert records(db_session) == [datetime(2026, 3, 1)]


def test_the_cli_uses_the_configured_retention_and_beat_runs_it_nightly(app, db_session):
    account = factories.make_line(db_session)
    now = datetime.now(UTC).replace(tzinfo=None)
    add(db_session, account.id, now - timedelta(days=400), now - timedelta(days=1))
    result = app.test_cli_runner().invoke(args=["usage", "prune"])
    assert result.exit_code == 0 and "6 months deleted: 1" in result.output
    assert db_session.scalar(select(func.count(UsageRecord.id))) == 1
    from portal.extensions import celery

    assert celery.conf.beat_schedule["usage-prune"]["task"] == "portal.usage_prune"
    assert celery.conf.task_routes["portal.usage_prune"]["queue"] == "reports"


def test_a_retention_shorter_than_the_details_customers_see_stops_startup(database_url):
    with pytest.raises(ConfigError, match="USAGE_RETENTION_MONTHS"):
        create_app({"TESTING": True, "USAGE_RETENTION_MONTHS": 3, "SQLALCHEMY_DATABASE_URI": database_url})
