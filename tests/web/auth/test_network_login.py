"""One-click sign-in on the operator's own network (docs/architecture.md §4.6)."""
import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Login
from tests import factories

GATEWAY = {"REMOTE_ADDR": "10.20.1.1"}  # inside TRUSTED_GATEWAYS of the test config
OUTSIDER = {"REMOTE_ADDR": "192.0.2.7"}
HEADER = {"X-Msisdn": "79161234567"}


@pytest.fixture
def line(db_session):
    account = factories.make_line(db_session, "+79161234567")
    db_session.commit()
    return account


def test_the_gateway_header_offers_a_one_click_login(client, line):
    page = client.get("/auth/login", headers=HEADER, environ_overrides=GATEWAY)
    assert "+7 916 ***-**-67" in page.text
    assert 'action="/auth/network-login"' in page.text


def test_one_click_signs_in_as_that_number(client, db_session, line):
    response = client.post_form("/auth/network-login", headers=HEADER, environ_overrides=GATEWAY)
    assert response.status_code == 303
    assert client.get("/", environ_overrides=GATEWAY).status_code == 200
    login = db_session.scalars(select(Login)).one()
    assert login.primary_account_id == line.id
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).one()
    assert event.detail == "operator network"


def test_the_header_from_anywhere_else_is_ignored(client, db_session, line):
    page = client.get("/auth/login", headers=HEADER, environ_overrides=OUTSIDER)
    assert "network-login" not in page.text and "***" not in page.text
    response = client.post_form("/auth/network-login", headers=HEADER, environ_overrides=OUTSIDER)
    assert response.status_code == 400
    assert client.get("/", environ_overrides=OUTSIDER).status_code == 302
    assert db_session.scalars(select(Login)).first() is None


def test_the_one_click_post_needs_csrf(client, line):
    response = client.post("/auth/network-login", headers=HEADER, environ_overrides=GATEWAY)
    assert response.status_code == 400


def test_a_number_we_do_not_serve_gets_no_button(client, line):
    page = client.get("/auth/login", headers={"X-Msisdn": "79169999999"}, environ_overrides=GATEWAY)
    assert "network-login" not in page.text


@pytest.mark.parametrize("config_overrides", [{"MSISDN_HEADER": "X-Up-Calling-Line-Id"}])
def test_the_header_name_is_configurable(client, line, config_overrides):
    page = client.get("/auth/login", headers={"X-Up-Calling-Line-Id": "+79161234567"}, environ_overrides=GATEWAY)
    assert "network-login" in page.text
