"""Passkeys on the devices page: added by the browser after a fresh sign-in, renamed, removed (SMS each time),
only the owner's."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.models import AuditEvent, Challenge, LoginSession, Passkey, SmsMessage, utcnow
from tests import factories
from tests.passkey_client import add_passkey, post_json
from tests.soft_authenticator import SoftAuthenticator

MSISDN = "+79161234567"


@pytest.fixture
def customer(client, login_as):
    login_as(MSISDN)
    return client


def alerts(db_session) -> list[str]:
    return db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "alert")).all()


def test_the_devices_page_offers_a_passkey_to_a_fresh_sign_in(customer):
    page = customer.get("/settings/sessions").text
    assert 'id="passkeys"' in page and 'data-passkey="register"' in page and "passkeys.js" in page
    assert "Adding a passkey needs JavaScript" in page  # the no-JS reader's sentence


def test_the_options_ask_for_a_discoverable_passkey_with_user_verification(customer):
    options = post_json(customer, "/settings/passkeys/options").json
    assert options["rp"]["id"] == "localhost" and options["authenticatorSelection"]["userVerification"] == "required"
    assert options["authenticatorSelection"]["residentKey"] == "required" and options["user"]["name"] == MSISDN


def test_registration_options_are_rate_limited_so_the_challenge_table_cannot_be_flooded(customer, db_session):
    statuses = [post_json(customer, "/settings/passkeys/options").status_code for _ in range(12)]
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429
    assert db_session.scalar(select(func.count()).select_from(Challenge)) == 10


def test_a_passkey_is_added_audited_and_told_by_sms(customer, db_session):
    response = add_passkey(customer, SoftAuthenticator(), name="Pixel")
    assert response.status_code == 200 and response.json["redirect"] == "/settings/sessions"
    assert db_session.scalar(select(Passkey.name)) == "Pixel"
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.action == "passkey_added"))
    assert any('passkey "Pixel" was added' in text for text in alerts(db_session))
    page = customer.get("/settings/sessions").text
    assert "Pixel" in page and "not used yet" in page and "is added" in page


def test_a_replayed_registration_is_refused(customer, db_session):
    options = post_json(customer, "/settings/passkeys/options").json
    answer = SoftAuthenticator().create(options)
    assert post_json(customer, "/settings/passkeys", {"name": "A", "credential": answer}).status_code == 200
    again = post_json(customer, "/settings/passkeys", {"name": "B", "credential": answer})
    assert again.status_code == 422 and "expired or was already used" in again.json["error"]
    assert db_session.scalar(select(func.count()).select_from(Passkey)) == 1


def test_an_unnamed_passkey_is_refused(customer, db_session):
    response = add_passkey(customer, SoftAuthenticator(), name="  ")
    assert response.status_code == 422 and "Name the passkey" in response.json["error"]
    assert db_session.scalar(select(func.count()).select_from(Passkey)) == 0


def test_an_old_sign_in_must_sign_in_again_to_add_one(customer, db_session):
    db_session.execute(update(LoginSession).values(created_at=utcnow() - timedelta(minutes=16)))
    db_session.commit()
    assert "sign out and sign in again" in customer.get("/settings/sessions").text
    response = post_json(customer, "/settings/passkeys/options")
    assert response.status_code == 403 and "sign in again" in response.json["error"]


def test_the_passkey_posts_need_the_csrf_token(customer):
    assert customer.post("/settings/passkeys/options", json={}).status_code == 400
    assert customer.post("/settings/passkeys", json={"name": "x", "credential": {}}).status_code == 400


def test_a_malformed_answer_is_a_bad_request(customer):
    post_json(customer, "/settings/passkeys/options")
    assert post_json(customer, "/settings/passkeys", {"name": "x"}).status_code == 400


def test_rename_and_remove(customer, db_session):
    add_passkey(customer, SoftAuthenticator(), name="Pixel")
    passkey_id = db_session.scalar(select(Passkey.id))
    page = customer.get(f"/settings/passkeys/{passkey_id}")
    assert page.status_code == 200 and "Remove the passkey" in page.text
    refused = customer.post_form(f"/settings/passkeys/{passkey_id}", {"name": ""})
    assert refused.status_code == 422 and 'id="name-error"' in refused.text
    assert customer.post_form(f"/settings/passkeys/{passkey_id}", {"name": "Work laptop"}).status_code == 303
    assert db_session.scalar(select(Passkey.name)) == "Work laptop"
    assert customer.post(f"/settings/passkeys/{passkey_id}/remove").status_code == 400  # no CSRF token
    assert customer.post_form(f"/settings/passkeys/{passkey_id}/remove").status_code == 303
    assert db_session.scalar(select(func.count()).select_from(Passkey)) == 0
    assert any('passkey "Work laptop" was removed' in text for text in alerts(db_session))
    assert {"passkey_renamed", "passkey_removed"} <= set(db_session.scalars(select(AuditEvent.action)))


def test_another_customers_passkey_is_not_found(app, customer, db_session):
    other = app.test_client()
    factories.ensure_login(db_session, "+79161234568")
    other.post_form("/auth/login", {"phone": "+79161234568", "password": factories.PASSWORD})
    add_passkey(other, SoftAuthenticator(), name="Theirs")
    passkey_id = db_session.scalar(select(Passkey.id))
    assert customer.get(f"/settings/passkeys/{passkey_id}").status_code == 404
    assert customer.post_form(f"/settings/passkeys/{passkey_id}", {"name": "Mine"}).status_code == 404
    assert customer.post_form(f"/settings/passkeys/{passkey_id}/remove").status_code == 404
    assert db_session.scalar(select(Passkey.name)) == "Theirs"
