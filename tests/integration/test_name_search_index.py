"""Staff search by a part of a name is served by the trigram index on PostgreSQL, not a scan of every customer."""
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.domain import staff
from portal.extensions import db
from tests import factories

pytestmark = pytest.mark.postgres


def test_a_name_search_uses_the_trigram_index(pg):
    engine = db.engine
    with Session(engine) as session:
        factories.make_line(session, "+79161234567", customer=factories.make_customer(session, name="Иван Петров"))
        session.commit()
        statements = []

        def seen(conn, cursor, statement, parameters, *args):
            statements.append((statement, parameters))

        sa.event.listen(engine, "before_cursor_execute", seen)
        try:
            found = staff.search_customers(session, "ПЕТРОВ")
        finally:
            sa.event.remove(engine, "before_cursor_execute", seen)
        assert [c.name for c in found] == ["Иван Петров"]
        search, params = next((s, p) for s, p in statements if "name_folded" in s)
        with engine.connect() as conn:
            conn.exec_driver_sql("set enable_seqscan = off")  # a table this small would be scanned anyway
            plan = "\n".join(row[0] for row in conn.exec_driver_sql("explain " + search, params))
        assert "ix_customer_name_folded_trgm" in plan, plan
