"""Redis gone: the limiter falls back to memory and the database-counted quotas still hold."""
import pytest
from sqlalchemy import func, select

from portal.models import LedgerEntry, SmsMessage, Transfer
from tests import factories
from tests.helpers import key_of, request_password, top_up

NOBODY_LISTENS = "redis://127.0.0.1:1/0"


@pytest.fixture
def config_overrides():
    return {"REDIS_URL": NOBODY_LISTENS, "RATELIMIT_LOGIN": "3 per minute",
            # SMS delivery stays inline so the test reads the outbox; the broker is covered elsewhere.
            "CELERY": {"task_always_eager": True}}


@pytest.fixture(autouse=True)
def no_redis_reset_at_teardown(app):
    """conftest empties the limiter's Redis after a Redis test; there is none here."""
    yield
    app.config["REDIS_URL"] = None


@pytest.fixture
def lines(db_session):
    sender = factories.make_line(db_session, "+79161234567", balance=300000)
    factories.make_login(db_session, sender)
    factories.make_line(db_session, "+79031112233", balance=1000)
    db_session.commit()
    return sender


def sign_in(client, password=factories.PASSWORD):
    return client.post_form("/auth/login", {"phone": "+79161234567", "password": password})


def test_sign_in_works_and_its_limit_still_holds_in_memory(client, lines):
    assert sign_in(client).status_code == 303
    client.post_form("/auth/logout")
    statuses = [sign_in(client, "wrong-password").status_code for _ in range(3)]
    assert 500 not in statuses and statuses[-1] == 429


def test_the_sms_password_page_works_and_the_number_quota_holds(client, db_session, lines):
    assert request_password(client).status_code == 303
    assert request_password(client).status_code == 429  # one SMS a minute per number, counted in the database
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 1


def test_top_up_and_transfer_work(client, db_session, lines):
    sign_in(client)
    assert client.get("/payments/topup").status_code == 200
    topup, _ = top_up(client)
    assert topup.status_code == 303 and "/payments/" in topup.location
    page = client.get("/payments/transfer")
    sent = client.post_form("/payments/transfer", {"idempotency_key": key_of(page.text),
                                                   "recipient": "+79031112233", "amount": "250"})
    assert sent.status_code == 303
    assert db_session.scalar(select(func.count()).select_from(Transfer)) == 1
    assert db_session.scalar(select(func.count()).select_from(LedgerEntry)) >= 2


# The broker really used (the PostgreSQL + Redis run makes jobs eager for the rest of the suite).
@pytest.mark.parametrize("config_overrides", [{"REDIS_URL": NOBODY_LISTENS, "CELERY": {"task_always_eager": False}}])
def test_with_the_broker_down_too_the_sms_request_waits_for_its_job(client, db_session, lines, config_overrides):
    """Celery cannot reach Redis either: the page still answers and the request is kept, unhandled, for the
    job (the sweep or `flask sms deliver` hands it over again once the broker is back)."""
    from portal.models import PasswordRequest

    assert request_password(client).status_code == 303
    request = db_session.scalars(select(PasswordRequest)).one()
    assert request.msisdn == "+79161234567" and request.handled_at is None
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 0
