"""Switching the personal account off with an SMS code, and on again with an SMS password."""
import re

import pytest
from sqlalchemy import select

from portal.models import Account, AuditEvent, Login, LoginSession, SmsMessage
from tests import factories
from tests.helpers import request_password, sent_password

PHONE = "+79161234567"


@pytest.fixture
def signed_in(client, login_as):
    login_as(PHONE)
    return client


def close_code(db_session) -> str:
    text = db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "close_code")
                              .order_by(SmsMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", text).group(1)


def login(db_session) -> Login:
    db_session.expire_all()
    return db_session.scalar(select(Login))


def test_switch_off_with_the_code_then_on_again_with_an_sms_password(signed_in, db_session, client):
    balance = login(db_session).primary_account.balance
    assert signed_in.get("/settings/close").status_code == 200
    assert signed_in.post_form("/settings/close/code").status_code == 303
    code = close_code(db_session)
    response = signed_in.post_form("/settings/close", {"code": code, "confirm": "y"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/auth/login")
    assert login(db_session).enabled is False
    assert db_session.scalar(select(LoginSession).where(LoginSession.revoked_at.is_(None))) is None
    assert client.get("/").status_code == 302  # signed out here too
    # The permanent password no longer opens it…
    wrong = client.post_form("/auth/login", {"phone": PHONE, "password": factories.PASSWORD})
    assert wrong.status_code == 422
    # …a new SMS password does, and the lines kept their money.
    request_password(client, PHONE)
    response = client.post_form("/auth/login", {"phone": PHONE, "password": sent_password(db_session, PHONE)})
    assert response.status_code == 303
    assert login(db_session).enabled is True
    assert db_session.scalar(select(Account)).balance == balance
    actions = set(db_session.scalars(select(AuditEvent.action)))
    assert {"personal_account_closed", "personal_account_reopened"} <= actions


def test_a_wrong_or_missing_code_changes_nothing(signed_in, db_session):
    response = signed_in.post_form("/settings/close", {"code": "123456", "confirm": "y"})
    assert response.status_code == 422 and "Ask for a new one" in response.text
    signed_in.post_form("/settings/close/code")
    response = signed_in.post_form("/settings/close", {"code": "000000" if close_code(db_session) != "000000"
                                                        else "111111", "confirm": "y"})
    assert response.status_code == 422 and "Wrong code" in response.text
    response = signed_in.post_form("/settings/close", {"code": close_code(db_session)})
    assert response.status_code == 422 and "Tick the box" in response.text
    assert login(db_session).enabled is True
    assert signed_in.get("/").status_code == 200


def test_the_code_is_never_shown_to_staff(signed_in, db_session, app):
    signed_in.post_form("/settings/close/code")
    factories.make_staff(db_session)
    staff = app.test_client()
    staff.post_form("/admin/login", {"email": "agent@example.com", "password": factories.PASSWORD})
    assert close_code(db_session) not in staff.get("/admin/sms").text


def test_the_network_login_does_not_reopen_a_switched_off_account(signed_in, db_session):
    from portal.domain import auth
    from portal.domain.errors import DomainError
    from portal.models import utcnow

    account = login(db_session)
    account.enabled = False
    db_session.commit()
    with pytest.raises(DomainError):
        auth.network_login(db_session, msisdn=PHONE, ip=None, now=utcnow())


SWITCHED_OFF = "Your personal account is switched off. Get a password by SMS to switch it on again."


def test_signing_in_to_a_switched_off_account_with_its_password_says_how_to_switch_it_on(client, db_session):
    factories.ensure_login(db_session, PHONE)
    login(db_session).enabled = False
    db_session.commit()
    response = client.post_form("/auth/login", {"phone": PHONE, "password": factories.PASSWORD})
    assert response.status_code == 422 and SWITCHED_OFF in response.text
    assert 'action="/auth/password/start"' in response.text  # the way back is on the same page
    assert client.get("/").status_code == 302  # and it did not sign in
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()
    assert event.detail.endswith("(switched off)")


def test_a_wrong_password_tells_a_stranger_nothing_about_a_switched_off_account(client, db_session):
    factories.ensure_login(db_session, PHONE)
    login(db_session).enabled = False
    db_session.commit()
    for phone, password in ((PHONE, "not-the-password"), ("+79169999999", factories.PASSWORD)):
        response = client.post_form("/auth/login", {"phone": phone, "password": password})
        assert response.status_code == 422 and "Wrong number or password." in response.text
        assert "switched off" not in response.text


def test_a_home_contract_gets_its_code_on_the_contact_phone(client, db_session):
    """A home login has no line of its own: the code goes where its SMS passwords go."""
    home = factories.make_home_contract(db_session, "HC-100200", contact_phone="+79031112233")
    factories.make_login(db_session, home)
    db_session.commit()
    assert client.post_form("/auth/login", {"phone": "HC-100200", "password": factories.PASSWORD}).status_code == 303
    page = client.get("/settings/close").text.replace("\xa0", " ")
    assert "+7 903 111-22-33" in page
    assert client.post_form("/settings/close/code").status_code == 303
    sent = db_session.scalars(select(SmsMessage).where(SmsMessage.purpose == "close_code")).one()
    assert sent.to == "+79031112233"
    assert client.post_form("/settings/close", {"code": close_code(db_session), "confirm": "y"}).status_code == 303
    assert login(db_session).enabled is False
