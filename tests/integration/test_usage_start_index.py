"""On PostgreSQL the roll-up and the retention read their days through a BRIN index on the start, not the history."""
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.domain import details
from portal.extensions import db
from portal.models import UsageRecord
from tests import factories

pytestmark = pytest.mark.postgres


def plans_of(engine, action) -> list[str]:
    """EXPLAIN of every statement ``action`` runs that reads usage_record (seq scans off: the table is tiny)."""
    statements = []

    def seen(conn, cursor, statement, parameters, *args):
        if "FROM usage_record" in statement and statement.lstrip().upper().startswith(("SELECT", "INSERT", "DELETE")):
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    plans = []
    with engine.connect() as conn:
        conn.exec_driver_sql("set enable_seqscan = off")
        for statement, parameters in statements:
            plans.append("\n".join(row[0] for row in conn.exec_driver_sql("explain " + statement, parameters)))
        conn.rollback()
    return plans


def test_the_index_is_brin(pg):
    with db.engine.connect() as conn:
        definition = conn.execute(sa.text(
            "select indexdef from pg_indexes where indexname = 'ix_usage_record_started'")).scalar_one()
    assert "USING brin (started_at)" in definition


def test_a_days_roll_up_and_the_retention_read_through_the_start_index(pg):
    engine = db.engine
    with Session(engine) as session:
        account = factories.make_line(session, "+79161234567")
        session.add_all([UsageRecord(account_id=account.id, started_at=datetime(2026, 1, 1) + timedelta(hours=h),
                                             kind="call_out", counterpart="+79990000000", quantity=60, cost=100)
                         for h in range(0, 24 * 330, 7)])
        session.commit()
        rollup = plans_of(engine, lambda: details.roll_up(session, since=date(2026, 11, 1), through=date(2026, 11, 1)))
        prune = plans_of(engine, lambda: details.prune(session, today=date(2026, 12, 7)))
    assert rollup and all("ix_usage_record_started" in plan for plan in rollup), rollup
    assert prune and all("ix_usage_record_started" in plan for plan in prune), prune
