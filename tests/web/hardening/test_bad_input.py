"""The bad inputs of issue 14, point 6, one by one: each a 4xx with a clear answer (SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.bounds import db_int
from portal.domain.details import decode_cursor
from portal.models import Subscription, VoiceMessage, utcnow
from tests import factories
from tests.helpers import captcha_token, key_of

HUGE = "99999999999999999999"
PHONE = "+79161234567"


@pytest.fixture
def customer(client, login_as, db_session):
    login_as(PHONE)
    return factories.ensure_login(db_session, PHONE).primary_account


@pytest.mark.parametrize("url", ["/payments/ab%00cd", "/auth/captcha/ab%00cd.png", "/auth/login?phone=ab%00cd",
                                 "/payments/transfer/ab%00cd"])
def test_a_nul_in_the_path_or_query_is_400(client, customer, url):
    response = client.get(url)
    assert response.status_code == 400 and "The request could not be accepted" in response.text


def test_a_captcha_token_with_nul_is_400_and_uses_nothing_up(client, db_session):
    page = client.get("/auth/password")
    token = captcha_token(page.text)
    response = client.post_form("/auth/password", {"phone": PHONE, "captcha_token": token + "\x00", "captcha": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("url", [f"/services/{HUGE}", f"/tariffs/{HUGE}", f"/numbers/{HUGE}/",
                                 f"/settings/ringback/melodies/{HUGE}.wav"])
def test_an_id_beyond_the_database_is_404(client, customer, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/payments/history", "/archive", "/settings/missed-calls"])
def test_a_cursor_beyond_the_database_is_the_first_page(client, customer, url):
    assert client.get(url, query_string={"before": HUGE}).status_code == 200


def test_a_details_cursor_beyond_the_database_is_ignored():
    stamp = (utcnow() - timedelta(days=1)).strftime("%Y%m%d%H%M%S%f")
    assert decode_cursor(f"{stamp}-{HUGE}") is None
    assert decode_cursor(f"{stamp}-12")[1] == 12


@pytest.mark.parametrize("value", ["-1", HUGE, "x", "1.5"])
def test_db_int_refuses_what_an_id_column_cannot_hold(value):
    with pytest.raises(ValueError):
        db_int(value)


@pytest.mark.parametrize("body", ["{\"object\": {\"id\": \"платёж\"}}".encode(), b"\xff\xfe", b'{"object": 1}'])
def test_an_odd_webhook_body_is_a_4xx(client, body):
    response = client.post("/payments/webhook", data=body, content_type="application/json")
    assert response.status_code in (400, 404)


def test_a_malformed_key_on_disconnect_is_422_and_disconnects_nothing(client, customer, db_session):
    subscription = factories.make_subscription(db_session, customer, factories.make_service(db_session))
    db_session.commit()
    url = f"/services/subscriptions/{subscription.id}/disconnect"
    assert client.get(url).status_code == 200
    response = client.post_form(url, {"idempotency_key": "not a key!"})
    assert response.status_code == 422 and "The form has expired" in response.text
    db_session.expire_all()
    assert db_session.get(Subscription, subscription.id).status == "active"
    fresh = key_of(response.text)  # the page offers a fresh key: the next try works
    assert client.post_form(url, {"idempotency_key": fresh}).status_code == 303


def test_a_malformed_key_on_voicemail_delete_is_422_and_deletes_nothing(client, customer, db_session):
    message = VoiceMessage(account_id=customer.id, reference="vm-1", caller="+79031112233", duration_s=24)
    db_session.add(message)
    db_session.commit()
    response = client.post_form("/settings/voicemail/delete", {"idempotency_key": "x" * 500,
                                                               "messages": [str(message.id)]})
    assert response.status_code == 422 and "The form has expired" in response.text
    assert db_session.scalar(select(func.count()).select_from(VoiceMessage)) == 1


def test_message_ids_beyond_the_database_are_422(client, customer, db_session):
    key = key_of(client.get("/settings/voicemail").text)
    response = client.post_form("/settings/voicemail/delete", {"idempotency_key": key, "messages": [HUGE]})
    assert response.status_code == 422


def test_a_number_switch_beyond_the_database_is_404(client, customer):
    assert client.post_form("/numbers/focus", {"account": HUGE}).status_code == 404


def test_a_newline_in_next_goes_to_the_start_page(client, customer):
    response = client.post_form("/numbers/focus", {"account": str(customer.id), "next": "/\n/evil.example"})
    assert response.status_code == 303 and response.headers["Location"] == "/"
