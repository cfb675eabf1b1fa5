"""Staff search (portal.domain.staff.search_customers): exact matches first, then fragments; on any database."""
import pytest

from portal.domain import staff
from tests import factories


def names(found):
    return [c.name for c in found]


def test_an_exact_number_comes_before_the_numbers_that_contain_it(db_session):
    # "Абрамов"'s number contains the digits typed; "Яковлев"'s is the number typed: Яковлев first.
    exact = factories.make_customer(db_session, name="Яковлев Иван")
    factories.make_line(db_session, "+79161234567", customer=exact)
    factories.make_line(db_session, "+79991612345", customer=factories.make_customer(db_session, name="Абрамов Олег"))
    db_session.commit()
    assert names(staff.search_customers(db_session, "9161234567")) == ["Яковлев Иван"]
    assert names(staff.search_customers(db_session, "91612345")) == ["Абрамов Олег", "Яковлев Иван"]
    factories.make_customer(db_session, name="Аксёнов Пётр", contract_no="791612345")
    db_session.commit()
    # The customer's own contract (account) number typed in full: that customer first, then the fragments.
    assert names(staff.search_customers(db_session, "791612345")) == ["Аксёнов Пётр", "Яковлев Иван"]


def test_a_contract_number_comes_before_names_that_contain_it(db_session):
    factories.make_home_contract(db_session, "HC-100200", customer=factories.make_customer(db_session, name="Юрьев"))
    factories.make_customer(db_session, name="Ателье hc-100200")
    db_session.commit()
    assert names(staff.search_customers(db_session, "HC-100200")) == ["Юрьев", "Ателье hc-100200"]


def test_a_customer_found_twice_is_listed_once_at_its_best_rank(db_session):
    customer = factories.make_customer(db_session, name="Петров 4567")
    factories.make_line(db_session, "+79161234567", customer=customer)
    factories.make_line(db_session, "+79161114567", customer=customer)
    db_session.commit()
    assert names(staff.search_customers(db_session, "4567")) == ["Петров 4567"]
    assert names(staff.search_customers(db_session, "+79161234567")) == ["Петров 4567"]


def test_fragments_are_sorted_by_name_and_limited(db_session):
    for n, name in enumerate(("Волков", "Борисов", "Антонов")):
        factories.make_line(db_session, f"+7916555000{n}", customer=factories.make_customer(db_session, name=name))
    db_session.commit()
    assert names(staff.search_customers(db_session, "5550")) == ["Антонов", "Борисов", "Волков"]
    assert names(staff.search_customers(db_session, "5550", limit=2)) == ["Антонов", "Борисов"]


@pytest.mark.parametrize("query", ["%", "_", "/", "100%", "a_b"])
def test_like_wildcards_in_a_query_are_plain_characters(db_session, query):
    factories.make_customer(db_session, name="Иван Петров")
    db_session.commit()
    assert staff.search_customers(db_session, query) == []


def test_three_digits_are_not_a_part_of_a_number(db_session):
    factories.make_line(db_session, "+79161234567", customer=factories.make_customer(db_session, name="Петров"))
    db_session.commit()
    assert staff.search_customers(db_session, "456") == []
    assert names(staff.search_customers(db_session, "4567")) == ["Петров"]
