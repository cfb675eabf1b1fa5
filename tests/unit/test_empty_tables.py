"""tests.conftest.empty_tables: what every test leaves behind is a database like a freshly migrated one."""
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Customer, Tariff
from tests import factories
from tests.conftest import empty_tables


def row_count() -> int:
    """The rows a test may have written: the support topics the migration inserts are put back on purpose."""
    with db.engine.connect() as conn:
        return sum(conn.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables
                   if t.name != "support_topic")


def test_the_migrations_rows_are_put_back(db_session):
    with db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(db.metadata.tables["support_topic"])) \
            == len(factories.DEFAULT_TOPICS)


def test_every_row_goes_and_ids_start_again_at_one(db_session):
    factories.make_line(db_session, "+79161234567")
    factories.make_line(db_session, "+79161234568")
    db_session.commit()
    assert row_count() > 0
    db_session.remove()

    empty_tables()

    assert row_count() == 0
    assert factories.make_customer(db_session).id == 1


def test_a_sequence_drawn_from_by_rows_deleted_since_starts_again_too(db_session):
    ids = [factories.make_tariff(db_session).id for _ in range(3)]
    db_session.commit()
    db_session.execute(sa.delete(Tariff))
    db_session.commit()
    assert ids == [1, 2, 3] and row_count() == 0
    db_session.remove()

    empty_tables()

    assert factories.make_tariff(db_session).id == 1
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0
