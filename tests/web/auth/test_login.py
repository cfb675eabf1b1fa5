import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, LoginSession, LoginThrottle, utcnow
from tests import factories
from tests.helpers import request_password, sent_password

FROM_HERE = "+79161234567@127.0.0.0/24"  # failures count per identifier and network (the test client's /24)


@pytest.fixture
def login(db_session):
    account = factories.make_line(db_session, "+79161234567")
    login = factories.make_login(db_session, account)
    db_session.commit()
    return login


def without_tokens(html: str) -> str:
    """CSRF tokens carry a timestamp: two pages a second apart differ there and nowhere else."""
    return re.sub(r'"[\w-]{20,}\.[\w-]{5,}\.[\w-]{10,}"', '"TOKEN"', html)  # itsdangerous-signed tokens


def sign_in(client, password=factories.PASSWORD, phone="8 916 123-45-67", **kwargs):
    return client.post_form("/auth/login", {"phone": phone, "password": password}, **kwargs)


def test_a_customer_signs_in_and_sees_the_dashboard(client, login):
    response = sign_in(client)
    assert response.status_code == 303 and response.location == "/"
    page = client.get("/")
    assert "+7 916 123-45-67" in page.text


def test_the_dashboard_needs_a_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_unknown_number_and_wrong_password_get_the_same_answer(client, login):
    wrong = sign_in(client, phone="89161234567", password="not-the-password")
    unknown = sign_in(client, phone="89169999999")
    assert wrong.status_code == unknown.status_code == 422
    assert "Wrong number or password." in wrong.text
    assert without_tokens(wrong.text).replace("89161234567", "X") == \
        without_tokens(unknown.text).replace("89169999999", "X")


def test_a_failure_is_counted_and_audited(client, db_session, login):
    sign_in(client, password="nope")
    assert db_session.get(LoginThrottle, FROM_HERE).failures == 1
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()
    assert event.login_id == login.id and event.ip == "127.0.0.1"


def test_ten_failures_lock_the_number_even_with_the_right_password(client, db_session, login):
    for _ in range(10):
        assert sign_in(client, password="nope").status_code == 422
    locked = sign_in(client)
    assert locked.status_code == 429
    assert "Try again after" in locked.text
    assert client.get("/").status_code == 302


def test_the_lock_grows_with_each_further_failure(client, db_session, login):
    db_session.add(LoginThrottle(identifier=FROM_HERE, failures=10, locked_until=utcnow() - timedelta(seconds=1)))
    db_session.commit()
    sign_in(client, password="nope")
    first = db_session.get(LoginThrottle, FROM_HERE)
    first_wait = first.locked_until - utcnow()
    first.locked_until = utcnow() - timedelta(seconds=1)
    db_session.commit()
    sign_in(client, password="nope")
    db_session.expire_all()
    second_wait = db_session.get(LoginThrottle, FROM_HERE).locked_until - utcnow()
    assert second_wait > first_wait + timedelta(minutes=1)


def test_numbers_we_do_not_serve_lock_the_same_way(client, login):
    for _ in range(10):
        sign_in(client, phone="+79169999999", password="nope")
    assert sign_in(client, phone="+79169999999", password="nope").status_code == 429


def test_a_success_resets_the_counter(client, db_session, login):
    sign_in(client, password="nope")
    assert sign_in(client).status_code == 303
    assert db_session.get(LoginThrottle, FROM_HERE) is None


def test_failures_are_limited_per_ip_across_numbers(client, db_session, login, app):
    app.config["LOGIN_IP_MAX_FAILURES_PER_HOUR"] = 3
    for i in range(3):
        sign_in(client, phone=f"+7916000000{i}", password="nope")
    assert sign_in(client).status_code == 429
    assert sign_in(client, environ_overrides={"REMOTE_ADDR": "10.1.2.3"}).status_code == 303


def test_sign_in_rotates_the_session_and_records_the_device(client, db_session, login):
    client.get("/auth/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    sign_in(client, headers={"User-Agent": "OldPhone/1.0"})
    with client.session_transaction() as sess:
        assert "planted" not in sess
    web_session = db_session.scalars(select(LoginSession)).one()
    assert web_session.user_agent == "OldPhone/1.0" and web_session.ip == "127.0.0.1"


def test_the_session_cookie_is_httponly_and_lax(client, login):
    response = sign_in(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("config_overrides", [{"PREFERRED_URL_SCHEME": "https"}], indirect=False)
def test_the_cookie_is_secure_over_https(client, login, config_overrides):
    response = sign_in(client, base_url="https://localhost", headers={"Referer": "https://localhost/auth/login"})
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_temporary_password_forces_the_change_first(client, db_session):
    factories.make_line(db_session, "+79161234567")
    db_session.commit()
    request_password(client)
    response = sign_in(client, password=sent_password(db_session).upper())  # letters in any case
    assert response.status_code == 303 and response.location == "/settings/password"
    for url in ("/", "/settings/"):
        assert client.get(url).location == "/settings/password"


def test_a_temporary_password_works_once(client, db_session):
    factories.make_line(db_session, "+79161234567")
    db_session.commit()
    request_password(client)
    password = sent_password(db_session)
    assert sign_in(client, password=password).status_code == 303
    client.post_form("/auth/logout")
    assert sign_in(client, password=password).status_code == 422


def test_an_expired_temporary_password_is_refused(client, db_session):
    from portal.models import Challenge

    factories.make_line(db_session, "+79161234567")
    db_session.commit()
    request_password(client)
    challenge = db_session.scalars(select(Challenge).where(Challenge.purpose == "temp_password")).one()
    challenge.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert sign_in(client, password=sent_password(db_session)).status_code == 422


def test_logout_revokes_the_device_session(client, db_session, login):
    sign_in(client)
    with client.session_transaction() as sess:
        stolen = dict(sess)
    response = client.post_form("/auth/logout")
    assert response.status_code == 303
    assert db_session.scalars(select(LoginSession)).one().revoked_at is not None
    with client.session_transaction() as sess:  # replay the old cookie
        sess.update(stolen)
    assert client.get("/").status_code == 302
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "logout")).one()


def test_logout_needs_the_csrf_token(client, login):
    sign_in(client)
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_a_terminated_line_cannot_sign_in(client, db_session, login):
    login.primary_account.status = "terminated"
    db_session.commit()
    assert sign_in(client).status_code == 422


@pytest.mark.parametrize("data", [
    {},
    {"phone": "+79161234567"},
    {"phone": "x" * 10_000, "password": "y" * 10_000},
    {"phone": ["a", "b"], "password": 5},
])
def test_bad_input_gets_a_message_never_a_500(client, login, data):
    response = client.post_form("/auth/login", data)
    assert response.status_code == 422
    assert 'class="error"' in response.text


def test_non_utf8_input_is_handled(client, login):
    body = b"csrf_token=" + client.csrf_token().encode() + b"&phone=%ff%fe&password=%c3%28"
    response = client.post("/auth/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422


def test_the_sms_button_carries_the_typed_number_without_secrets_in_the_url(client):
    response = client.post_form("/auth/password/start", {"phone": "8 916 123-45-67", "password": "secret"})
    assert response.status_code == 303
    assert response.location == "/auth/password?phone=8+916+123-45-67"


def test_the_sms_button_needs_csrf(client):
    assert client.post("/auth/password/start", data={"phone": "1"}).status_code == 400


def test_the_login_page_prefills_the_number(client):
    assert 'value="+79161234567"' in client.get("/auth/login?phone=%2B79161234567").text


def test_an_unknown_number_costs_the_same_password_hash_check(client, db_session, login, monkeypatch):
    """Issue 14.11: a hash check only for numbers with a login made them slower to refuse (a timing oracle)."""
    import werkzeug.security

    checked = []
    real = werkzeug.security.check_password_hash
    monkeypatch.setattr("portal.domain.passwords.check_password_hash",
                        lambda hashed, secret: checked.append(hashed) or real(hashed, secret))
    assert sign_in(client, phone="+79169999999", password="guess").status_code == 422
    assert sign_in(client, password="guess").status_code == 422
    assert len(checked) == 2 and checked[0] != login.password_hash and checked[1] == login.password_hash
    assert checked[0].split("$")[0] == login.password_hash.split("$")[0]  # the same method and cost


def test_failures_from_one_network_do_not_lock_the_owner_out_elsewhere(client, db_session, login, app):
    """Issue 14.15: ten wrong passwords from anyone used to lock the number for everyone, SMS password included."""
    attacker = {"REMOTE_ADDR": "203.0.113.7"}
    for _ in range(10):
        sign_in(client, password="nope", environ_overrides=attacker)
    assert sign_in(client, environ_overrides=attacker).status_code == 429  # that network stays locked out
    owner = app.test_client()
    assert sign_in(owner, environ_overrides={"REMOTE_ADDR": "198.51.100.20"}).status_code == 303
    neighbour = app.test_client()  # the same /24 is the same network
    assert sign_in(neighbour, environ_overrides={"REMOTE_ADDR": "203.0.113.99"}).status_code == 429


def test_guessing_from_many_networks_locks_only_the_permanent_password(client, db_session, login, app):
    app.config["LOGIN_MAX_FAILURES_ALL_NETWORKS"] = 6
    for i in range(6):  # three networks, two guesses each: no single network reaches its lock
        sign_in(client, password="nope", environ_overrides={"REMOTE_ADDR": f"203.0.{113 + i // 2}.7"})
    owner = app.test_client()
    home = {"REMOTE_ADDR": "198.51.100.20"}
    refused = sign_in(owner, environ_overrides=home)
    assert refused.status_code == 429 and "Get a password by SMS" in refused.text
    request_password(owner, "+79161234567", environ_overrides=home)
    assert sign_in(owner, password=sent_password(db_session), environ_overrides=home).status_code == 303
    assert db_session.get(LoginThrottle, "*+79161234567") is None  # a success starts the count again


def test_numbers_we_do_not_serve_lock_across_networks_the_same_way(client, app):
    app.config["LOGIN_MAX_FAILURES_ALL_NETWORKS"] = 2
    for i in range(2):
        sign_in(client, phone="+79169999999", password="nope", environ_overrides={"REMOTE_ADDR": f"203.0.{i}.7"})
    refused = sign_in(client, phone="+79169999999", password="nope",
                      environ_overrides={"REMOTE_ADDR": "198.51.100.20"})
    assert refused.status_code == 429 and "Get a password by SMS" in refused.text
