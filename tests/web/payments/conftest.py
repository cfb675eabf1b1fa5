"""A customer with one line, signed in: what most payment pages start from."""
import pytest

from tests import factories


@pytest.fixture
def account(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=10000)
    factories.make_login(db_session, account)
    db_session.commit()
    return account


@pytest.fixture
def signed_in(client, account):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    return client
