import pytest

from tests import factories
from tests.home_fixtures import CONTRACT_NO, make_home_with_catalog


@pytest.fixture
def home(db_session):
    home = make_home_with_catalog(db_session)
    factories.make_login(db_session, home.account)
    db_session.commit()
    return home


@pytest.fixture
def signed_in(client, home):
    response = client.post_form("/auth/login", {"phone": CONTRACT_NO, "password": factories.PASSWORD})
    assert response.status_code == 303, response.text
    return home
