"""What a login may see: its accounts as ORM objects and as the cards the header and the dashboard read."""
from datetime import timedelta

from portal.domain.accounts import account_cards, account_with_details, accounts_of_login
from portal.models import LoginAccount, utcnow
from tests import factories


def test_cards_list_the_same_accounts_in_the_same_order_as_the_orm_objects(db_session):
    tariff = factories.make_tariff(db_session, name="Smart", monthly_fee=45000, unlimited_data=True)
    own = factories.make_line(db_session, "+79161234567", tariff=tariff, balance=12345)
    login = factories.make_login(db_session, own)
    home = factories.make_home_contract(db_session, "HC-100300", customer=own.customer)
    added_first = factories.make_line(db_session, "+79031112233", customer=own.customer, status="blocked_by_owner")
    added_first.tariff = None
    db_session.add_all([LoginAccount(login_id=login.id, account_id=home.id, created_at=utcnow()),
                        LoginAccount(login_id=login.id, account_id=added_first.id,
                                     created_at=utcnow() - timedelta(days=1))])
    db_session.flush()

    cards = account_cards(db_session, login.id)

    assert [c.id for c in cards] == [a.id for a in accounts_of_login(db_session, login.id)] \
        == [own.id, added_first.id, home.id]
    mine, other, contract = cards
    assert (mine.kind, mine.status, mine.balance, mine.owner, mine.msisdn, mine.contract_no) == \
        ("mobile", "active", 12345, own.customer.name, "+79161234567", None)
    assert (mine.tariff_name, mine.tariff_fee, mine.unlimited_data) == ("Smart", 45000, True)
    assert (other.status, other.tariff_name, other.tariff_fee, other.unlimited_data) == \
        ("blocked_by_owner", None, None, None)
    assert (contract.kind, contract.msisdn, contract.contract_no) == ("home", None, "HC-100300")


def test_another_logins_accounts_are_not_among_the_cards(db_session):
    mine = factories.make_login(db_session, factories.make_line(db_session, "+79161234567"))
    factories.make_login(db_session, factories.make_line(db_session, "+79031112233"))
    assert [c.msisdn for c in account_cards(db_session, mine.id)] == ["+79161234567"]


def test_one_account_comes_with_its_customer_line_tariff_and_contract(db_session, count_queries):
    account = factories.make_home_contract(db_session, "HC-100300")
    db_session.expunge_all()
    with count_queries() as statements:
        loaded = account_with_details(db_session, account.id)
        assert (loaded.customer.name, loaded.line, loaded.tariff.kind, loaded.home_contract.contract_no) == \
            (account.customer.name, None, "home", "HC-100300")
    assert len(statements) == 1
    assert account_with_details(db_session, account.id + 1000) is None
