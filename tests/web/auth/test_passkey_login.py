"""Signing in with a passkey: no number, no SMS; the same device session as the password path; a challenge once;
nothing tells whether a passkey is known."""
import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, LoginSession, Passkey, SmsMessage
from tests import factories
from tests.passkey_client import add_passkey, post_json, sign_in_with
from tests.soft_authenticator import SoftAuthenticator

MSISDN = "+79161234567"


@pytest.fixture
def device(client, login_as):
    """A customer with a passkey on this device, signed out again."""
    login_as(MSISDN)
    device = SoftAuthenticator()
    assert add_passkey(client, device).status_code == 200
    client.post_form("/auth/logout")
    return device


def test_the_sign_in_page_offers_passkeys_to_scripts_and_says_so_without(client):
    page = client.get("/auth/login").text
    assert 'autocomplete="username webauthn"' in page
    assert 'data-passkey="sign-in"' in page and "data-conditional" in page and " hidden " in page
    assert "Signing in with a passkey needs JavaScript" in page


def test_the_options_name_no_passkeys_and_require_user_verification(client):
    options = post_json(client, "/auth/passkey/options").json
    assert options["rpId"] == "localhost" and options["userVerification"] == "required"
    assert options["allowCredentials"] == []


def test_a_passkey_signs_in_without_any_sms(client, db_session, device):
    sms_before = db_session.scalar(select(func.count()).select_from(SmsMessage))
    response = sign_in_with(client, device)
    assert response.status_code == 200 and response.json["redirect"] == "/"
    assert client.get("/").status_code == 200
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == sms_before
    assert db_session.scalar(select(func.count()).select_from(LoginSession)
                             .where(LoginSession.revoked_at.is_(None))) == 1
    assert "passkey Phone" in db_session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "login")).all()
    assert db_session.scalar(select(Passkey.last_used_at)) is not None
    assert "this device" in client.get("/settings/sessions").text


def test_a_replayed_sign_in_is_refused(app, client, db_session, device):
    options = post_json(client, "/auth/passkey/options").json
    answer = device.get(options)
    assert post_json(client, "/auth/passkey", {"credential": answer}).status_code == 200
    client.post_form("/auth/logout")
    again = post_json(client, "/auth/passkey", {"credential": answer})
    assert again.status_code == 422 and "expired or was already used" in again.json["error"]
    assert client.get("/").status_code == 302


def test_an_answer_to_another_challenge_is_refused(app, client, device):
    other = app.test_client()
    foreign = post_json(other, "/auth/passkey/options").json
    post_json(client, "/auth/passkey/options")
    response = post_json(client, "/auth/passkey", {"credential": device.get(foreign)})
    assert response.status_code == 422 and "did not sign you in" in response.json["error"]
    assert client.get("/").status_code == 302


def test_a_passkey_cannot_claim_another_logins_user_handle(app, client, db_session, device):
    other = app.test_client()
    factories.ensure_login(db_session, "+79161234568")
    other.post_form("/auth/login", {"phone": "+79161234568", "password": factories.PASSWORD})
    theirs = SoftAuthenticator()
    add_passkey(other, theirs)
    device.user_handle = theirs.user_handle
    response = sign_in_with(client, device)
    assert response.status_code == 422
    assert client.get("/").status_code == 302


def test_an_unknown_passkey_reads_like_a_wrong_one(client, device):
    unknown = sign_in_with(client, SoftAuthenticator())
    wrong = sign_in_with(client, device, verified=False)
    assert unknown.status_code == wrong.status_code == 422 and unknown.json == wrong.json


def test_the_passkey_posts_need_the_csrf_token(client):
    assert client.post("/auth/passkey/options", json={}).status_code == 400
    assert client.post("/auth/passkey", json={"credential": {}}).status_code == 400


def test_the_number_and_password_still_work(client, device):
    assert client.post_form("/auth/login", {"phone": MSISDN, "password": factories.PASSWORD}).status_code == 303
