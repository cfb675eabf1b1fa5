"""A double-clicked tariff switch on real PostgreSQL: one switch, one fee."""
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import tariffs
from portal.domain.audit import Actor
from portal.extensions import db
from portal.models import Account, LedgerEntry, utcnow
from tests import factories

pytestmark = pytest.mark.postgres


def run_together(pg, calls):
    barrier = threading.Barrier(len(calls), timeout=10)
    outcomes = [None] * len(calls)

    def run(i, call):
        with pg.app_context(), Session(db.engine) as session:
            barrier.wait()
            try:
                call(session)
                outcomes[i] = "ok"
            except Exception as err:  # noqa: BLE001 - the outcome is what the test checks
                outcomes[i] = err

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    return outcomes


@pytest.fixture
def line(pg):
    with Session(db.engine) as session:
        account = factories.make_line(session, "+79161234567", balance=20000)
        tariff = factories.make_tariff(session, switch_fee=5000)
        session.commit()
        return account.id, tariff.id


def switch(account_id, tariff_id, key):
    return lambda session: tariffs.change_tariff(session, account_id=account_id, tariff_id=tariff_id,
                                                 idempotency_key=key, actor=Actor(), now=utcnow())


def test_the_same_submission_twice_at_once_switches_and_charges_once(pg, line):
    account_id, tariff_id = line
    outcomes = run_together(pg, [switch(account_id, tariff_id, "same-key-000000001")] * 2)
    assert outcomes == ["ok", "ok"]
    with Session(db.engine) as session:
        fees = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "tariff_fee")
        assert session.scalar(fees) == 1
        assert session.get(Account, account_id).balance == 15000


def test_two_different_submissions_at_once_switch_once(pg, line):
    account_id, tariff_id = line
    outcomes = run_together(pg, [switch(account_id, tariff_id, "first-key-0000001"),
                                 switch(account_id, tariff_id, "second-key-000001")])
    assert sorted(map(str, outcomes)) == ["This is already your tariff.", "ok"]
    with Session(db.engine) as session:
        assert session.get(Account, account_id).balance == 15000
