"""The billing batches on real PostgreSQL: the same batch twice at once, and neighbouring batches in parallel,
bill every account once and conserve money."""
import threading
from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import ledger
from portal.domain.billing import batches, bill_range
from portal.extensions import db
from portal.models import Account, Allowance, LedgerEntry
from tests import factories

pytestmark = pytest.mark.postgres

DAY, NOW = date(2026, 12, 1), datetime(2026, 12, 1, 0, 5)


def run_together(pg, ranges):
    barrier = threading.Barrier(len(ranges), timeout=10)
    outcomes = [None] * len(ranges)

    def run(i, first_id, last_id):
        with pg.app_context(), Session(db.engine) as session:
            barrier.wait()
            try:
                outcomes[i] = bill_range(session, first_id=first_id, last_id=last_id, day=DAY, now=NOW).charges
            except Exception as err:  # noqa: BLE001 - the outcome is what the test checks
                outcomes[i] = err

    threads = [threading.Thread(target=run, args=(i, *r)) for i, r in enumerate(ranges)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


@pytest.fixture
def lines(pg):
    with Session(db.engine) as session:
        tariff = factories.make_tariff(session, monthly_fee=30000)
        service = factories.make_service(session, monthly_fee=1000, daily_fee=100)
        ids = []
        for n in range(12):
            account = factories.make_line(session, f"+7916100{n:04d}", tariff=tariff, balance=100000)
            factories.make_subscription(session, account, service, since=datetime(2026, 11, 1))
            ids.append(account.id)
        session.commit()
        return ids


def billed(session):
    return (session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind != "adjustment")),
            session.scalar(select(func.count()).select_from(Allowance)),
            sorted(session.scalars(select(Account.balance))))


def test_the_same_batch_twice_at_once_bills_once(pg, lines):
    outcomes = run_together(pg, [(lines[0], lines[-1])] * 2)
    assert sorted(outcomes) == [0, 36], outcomes  # the second waited for the first's locks, then found it done
    with Session(db.engine) as session:
        assert billed(session) == (36, 12, [100000 - 30000 - 1000 - 100] * 12)
        assert ledger.verify(session) == []


def test_batches_run_in_parallel_bill_every_account_once(pg, lines):
    with Session(db.engine) as session:
        ranges = batches(session, 5)
    outcomes = run_together(pg, ranges + ranges)
    assert sum(outcomes) == 36, outcomes
    with Session(db.engine) as session:
        assert billed(session) == (36, 12, [68900] * 12) and ledger.verify(session) == []
