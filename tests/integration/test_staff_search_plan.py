"""On PostgreSQL every part of a staff search runs through an index: equality ones for exact numbers and contracts,
the trigram indexes for a part of a number or a name; never an OR across a join of the three tables."""
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.domain import staff
from portal.extensions import db
from tests import factories

pytestmark = pytest.mark.postgres


def plan_of(session, query: str) -> tuple[list, str]:
    """The search's result and the plan of the statement that finds the customers (sequential scans off:
    tables this small would be scanned anyway)."""
    statements = []

    def seen(conn, cursor, statement, parameters, *args):
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        found = staff.search_customers(session, query)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    search, params = statements[0]
    assert " OR " not in search.upper()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("set enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("explain " + search, params))
    return found, plan


@pytest.fixture
def people(pg):
    with Session(db.engine) as session:
        petrov = factories.make_customer(session, name="Иван Петров", contract_no="C-777777")
        factories.make_line(session, "+79161234567", customer=petrov)
        factories.make_line(session, "+79031112233", customer=factories.make_customer(session, name="Анна Сидорова"))
        factories.make_home_contract(session, "HC-100200", customer=factories.make_customer(session, name="Олег Юрьев"))
        session.commit()
    with Session(db.engine) as session:
        yield session


def test_a_part_of_a_number_uses_the_trigram_index_on_msisdn(people):
    found, plan = plan_of(people, "1234")
    assert [c.name for c in found] == ["Иван Петров"]
    assert "ix_line_msisdn_trgm" in plan, plan
    assert "ix_customer_name_folded_trgm" in plan, plan  # the name part of the same search


def test_a_seven_digit_part_uses_it_too(people):
    found, plan = plan_of(people, "1112233")
    assert [c.name for c in found] == ["Анна Сидорова"]
    assert "ix_line_msisdn_trgm" in plan, plan


def test_an_exact_number_uses_the_unique_index(people):
    found, plan = plan_of(people, "8 916 123-45-67")
    assert [c.name for c in found] == ["Иван Петров"]
    assert "uq_line_msisdn" in plan and "uq_customer_contract_no" in plan, plan


def test_a_home_contract_number_uses_its_unique_index(people):
    found, plan = plan_of(people, "hc100200")
    assert [c.name for c in found] == ["Олег Юрьев"]
    assert "uq_home_contract_contract_no" in plan, plan


def test_the_migration_made_a_gin_trigram_index(people):
    definition = people.scalar(sa.text("select indexdef from pg_indexes where indexname = 'ix_line_msisdn_trgm'"))
    assert "USING gin" in definition and "gin_trgm_ops" in definition
