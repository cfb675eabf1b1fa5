"""A home contract signs in with its number: password by SMS to the contact phone, same captcha and quotas."""
import pytest
from sqlalchemy import func, select

from portal.domain.auth import parse_identifier
from portal.models import Account, HomeContract, Login, PasswordRequest, SmsMessage
from tests import factories
from tests.helpers import request_password, sent_password

CONTACT = "+79161234567"


@pytest.fixture
def contract(db_session):
    customer = factories.make_customer(db_session)
    account = Account(customer=customer, kind="home", region=customer.region, balance=0)
    db_session.add_all([account, HomeContract(account=account, contract_no="HC-100200", address="Moscow",
                                              connection_type="gpon", contact_phone=CONTACT)])
    db_session.commit()
    return account


@pytest.mark.parametrize(("typed", "identifier"), [
    ("HC-100200", "HC-100200"), ("hc100200", "HC-100200"), (" Hc-100200 ", "HC-100200"),
    ("8 916 123-45-67", "+79161234567"),
])
def test_contract_numbers_and_phones_are_both_understood(typed, identifier):
    assert parse_identifier(typed) == identifier


def test_the_password_goes_to_the_contact_phone_and_signs_in(client, db_session, contract):
    response = request_password(client, "hc-100200")
    assert response.status_code == 303
    message = db_session.scalar(select(SmsMessage))
    assert message.to == CONTACT and "HC-100200" in message.text
    response = client.post_form("/auth/login", {"phone": "HC-100200", "password": sent_password(db_session, CONTACT)})
    assert response.status_code == 303
    login = db_session.scalar(select(Login))
    assert login.primary_account_id == contract.id
    page = client.get("/settings/password")
    assert page.status_code == 200  # the temporary password asks for a new one first


def test_an_unknown_contract_gets_the_same_answer_and_no_sms(client, db_session, contract):
    response = request_password(client, "HC-999999")
    assert response.status_code == 303
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 0
    assert db_session.scalar(select(PasswordRequest.sent)) is False


def test_a_contract_without_a_contact_phone_gets_no_sms(client, db_session, contract):
    contract.home_contract.contact_phone = None
    db_session.commit()
    assert request_password(client, "HC-100200").status_code == 303
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 0


def test_a_wrong_contract_password_gets_the_neutral_message(client, db_session, contract):
    factories.make_login(db_session, contract)
    db_session.commit()
    wrong = client.post_form("/auth/login", {"phone": "HC-100200", "password": "not-the-password"})
    unknown = client.post_form("/auth/login", {"phone": "HC-123456", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 422
    assert "Wrong number or password." in wrong.text and "Wrong number or password." in unknown.text
    right = client.post_form("/auth/login", {"phone": "HC-100200", "password": factories.PASSWORD})
    assert right.status_code == 303


def test_contract_quotas_count_like_numbers(client, db_session, contract, app):
    app.config["SMS_QUOTAS"] = ((1, 60),)
    assert request_password(client, "HC-100200").status_code == 303
    assert request_password(client, "HC-100200").status_code == 429


def test_a_home_login_sees_its_contract_on_every_page(client, db_session, contract):
    factories.make_login(db_session, contract)
    db_session.commit()
    client.post_form("/auth/login", {"phone": "HC-100200", "password": factories.PASSWORD})
    for url in ("/", "/numbers/", "/payments/history", "/settings/", "/settings/contracts", "/archive"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "HC-100200" in client.get("/numbers/").text


def test_the_home_dashboard(client, db_session, contract):
    contract.tariff = factories.make_tariff(db_session, kind="home", name="Home 500", speed_mbps=500,
                                            unlimited_data=True)
    factories.make_login(db_session, contract)
    db_session.commit()
    client.post_form("/auth/login", {"phone": "HC-100200", "password": factories.PASSWORD})
    page = client.get("/").text
    assert "Home internet and TV" in page and "HC-100200" in page and "Moscow" in page
    assert "up to 500 Mbit/s" in page and "unlimited" in page and "days left" in page


def test_the_phone_quota_counts_sms_sent_through_its_number_and_its_contracts(client, db_session, contract):
    """Issue 14.14: HC-100200 right after +7 916 123-45-67 must not send a second SMS to that phone in 60 s."""
    factories.make_line(db_session, CONTACT)
    db_session.commit()
    assert request_password(client, "+79161234567").status_code == 303
    through_contract = request_password(client, "HC-100200")
    unknown_contract = request_password(client, "HC-999999")
    # The same neutral answer as for a contract we do not serve: a refusal would tell this one is ours.
    assert through_contract.status_code == unknown_contract.status_code == 303
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 1
    assert db_session.scalars(select(PasswordRequest.sent).order_by(PasswordRequest.id)).all() == [True, False, False]


def test_the_phone_quota_also_holds_the_other_way_round(client, db_session, contract, app):
    factories.make_line(db_session, CONTACT)
    db_session.commit()
    assert request_password(client, "HC-100200").status_code == 303
    assert request_password(client, "+79161234567").status_code == 303
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 1
