"""The SMS outbox: queued in the caller's transaction, delivered (eager Celery here) after it commits."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import jobs
from portal.domain import sms
from portal.extensions import db
from portal.models import SmsMessage, utcnow
from portal.sms import SmsSendError, gateway_from_config
from portal.sms.http import HttpGateway
from portal.sms.outbox import OutboxGateway
from tests.fakes import JsonApi

TO = "+79161234567"
SENDER = "TestTel"  # SMS_SENDER is unset: the brand (tests/conftest.py) signs the messages


class FakeProvider(JsonApi):
    """The provider's API: answers ``status`` with a fresh id, counts requests."""

    def __init__(self, status: int = 200):
        self.status = status
        super().__init__(self._answer, path="/send")

    def _answer(self, body):
        if self.status == 200:
            return 200, {"id": f"prov-{len(self.requests)}"}
        return self.status, {"error": "maintenance"}


@pytest.fixture
def provider(request):
    """The fake provider; ``@pytest.mark.parametrize("provider", [500], indirect=True)`` makes it fail."""
    fake = FakeProvider(getattr(request, "param", 200))
    yield fake
    fake.stop()


@pytest.fixture
def config_overrides(request, database_url):
    """Outbox by default; ``@http_backend`` tests talk to the fake provider.

    The delivery task object is created now if it was not yet, i.e. under an earlier app, as in any
    process that builds more than one app: the tests below then prove it uses the calling app's config.
    """
    jobs.deliver_sms._get_current_object()
    if getattr(request, "param", None) == "http":
        provider = request.getfixturevalue("provider")
        return {"SMS_BACKEND": "http", "SMS_HTTP_URL": provider.url, "SMS_HTTP_TOKEN": "t0ken",
                "SMS_HTTP_TIMEOUT": 2, "SMS_MAX_ATTEMPTS": 3}
    return {}


http_backend = pytest.mark.parametrize("config_overrides", ["http"], indirect=True)


def message(db_session, message_id: int) -> SmsMessage:
    db_session.expire_all()
    return db_session.get(SmsMessage, message_id)


def queue_and_commit(db_session, text: str = "TestTel: your password AB3DE") -> int:
    queued = sms.queue_sms(db_session, to=TO, text=text, purpose="password")
    message_id = queued.id
    db_session.commit()
    return message_id


def sms_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("[SMS to")]


# --- the outbox backend (the embedded default) -------------------------------------------------

def test_a_committed_message_is_delivered_after_the_commit(app, db_session, capsys):
    queued = sms.queue_sms(db_session, to=TO, text="TestTel: your password AB3DE", purpose="password")
    assert queued.status == "queued" and queued.id
    assert sms_lines(capsys) == []  # nothing leaves before the commit
    db_session.commit()
    sent = message(db_session, queued.id)
    assert sent.status == "sent" and sent.attempts == 1 and sent.error is None
    assert sent.sent_at is not None and abs((utcnow() - sent.sent_at).total_seconds()) < 60
    assert sent.provider_id.startswith("outbox-")
    assert sms_lines(capsys) == [f"[SMS to {TO} from {SENDER}] TestTel: your password AB3DE"]


def test_a_rolled_back_transaction_sends_nothing(app, db_session, capsys):
    sms.queue_sms(db_session, to=TO, text="never sent", purpose="password")
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 0
    # The rolled-back id is forgotten: the next commit dispatches only its own message.
    message_id = queue_and_commit(db_session, "the second one")
    assert message(db_session, message_id).status == "sent"
    assert sms_lines(capsys) == [f"[SMS to {TO} from {SENDER}] the second one"]


def test_delivering_a_sent_message_again_sends_nothing(app, db_session, capsys):
    message_id = queue_and_commit(db_session)
    first = message(db_session, message_id)
    provider_id, sent_at = first.provider_id, first.sent_at
    assert jobs.deliver_sms.delay(message_id).get() == "sent"
    again = message(db_session, message_id)
    assert (again.provider_id, again.sent_at, again.attempts) == (provider_id, sent_at, 1)
    assert len(sms_lines(capsys)) == 1
    assert jobs.deliver_sms.delay(10**9).get() == "missing"


def test_the_cli_hands_queued_messages_to_delivery(app, db_session):
    # Rows queued while delivery was down (never dispatched), one already sent, one failed.
    stuck = [SmsMessage(to=TO, text=f"stuck {n}", purpose="password") for n in (1, 2)]
    done = SmsMessage(to=TO, text="done", purpose="password", status="sent", attempts=1, provider_id="p-0")
    dead = SmsMessage(to=TO, text="dead", purpose="password", status="failed", attempts=5)
    db_session.add_all([*stuck, done, dead])
    db_session.commit()
    ids = [m.id for m in stuck]
    result = app.test_cli_runner().invoke(args=["sms", "deliver"])
    assert result.exit_code == 0, result.output
    assert "2 queued message(s) handed to delivery." in result.output
    assert [message(db_session, i).status for i in ids] == ["sent", "sent"]
    printed = sorted(line for line in result.output.splitlines() if line.startswith("[SMS to"))  # the runner's stderr
    assert printed == [f"[SMS to {TO} from {SENDER}] stuck 1", f"[SMS to {TO} from {SENDER}] stuck 2"]
    assert message(db_session, done.id).provider_id == "p-0" and message(db_session, dead.id).status == "failed"
    again = app.test_cli_runner().invoke(args=["sms", "deliver"])
    assert "0 queued message(s)" in again.output


# --- the domain function with the HTTP gateway (no Celery) -------------------------------------

def deliver(db_session, message_id, provider, max_attempts=3):
    with Session(db.engine) as session:
        return sms.deliver_sms(session, message_id, gateway=HttpGateway(provider.url, "t0ken", timeout=2),
                               sender="TestTel", now=utcnow(), max_attempts=max_attempts)


def unsent_message(db_session) -> int:
    row = SmsMessage(to=TO, text="hello", purpose="password")
    db_session.add(row)
    db_session.commit()  # added directly: not dispatched by the hook
    return row.id


def test_deliver_sms_sends_through_the_gateway(app, db_session, provider):
    message_id = unsent_message(db_session)
    assert deliver(db_session, message_id, provider) == "sent"
    assert provider.requests == [{"to": TO, "text": "hello", "sender": "TestTel"}]
    sent = message(db_session, message_id)
    assert (sent.status, sent.provider_id, sent.attempts) == ("sent", "prov-1", 1) and sent.sent_at
    assert deliver(db_session, message_id, provider) == "sent"
    assert len(provider.requests) == 1  # no second send


@pytest.mark.parametrize("provider", [500], indirect=True)
def test_deliver_sms_counts_failures_and_gives_up_after_max_attempts(app, db_session, provider):
    message_id = unsent_message(db_session)
    for attempt in (1, 2):
        with pytest.raises(SmsSendError):
            deliver(db_session, message_id, provider)
        failed = message(db_session, message_id)
        assert (failed.status, failed.attempts, failed.error) == ("queued", attempt, "provider answered HTTP 500")
    assert deliver(db_session, message_id, provider) == "failed"  # the third of 3: no exception, no retry
    dead = message(db_session, message_id)
    assert (dead.status, dead.attempts, dead.sent_at, dead.provider_id) == ("failed", 3, None, None)
    assert deliver(db_session, message_id, provider) == "failed"
    assert len(provider.requests) == 3


# --- the Celery task with SMS_BACKEND="http" --------------------------------------------------

@http_backend
def test_the_task_sends_through_the_configured_provider(app, db_session, provider):
    message_id = queue_and_commit(db_session)
    sent = message(db_session, message_id)
    assert (sent.status, sent.provider_id) == ("sent", "prov-1")
    assert provider.requests == [{"to": TO, "text": "TestTel: your password AB3DE", "sender": SENDER}]


@http_backend
@pytest.mark.parametrize("provider", [500], indirect=True)
def test_a_provider_failure_leaves_the_message_queued_then_failed(app, db_session, provider):
    message_id = queue_and_commit(db_session)  # attempt 1, inline after the commit
    queued = message(db_session, message_id)
    assert (queued.status, queued.attempts, queued.error) == ("queued", 1, "provider answered HTTP 500")
    assert queued.sent_at is None and queued.provider_id is None
    runner = app.test_cli_runner()
    assert "1 queued message(s)" in runner.invoke(args=["sms", "deliver"]).output  # attempt 2
    assert message(db_session, message_id).attempts == 2
    assert "1 queued message(s)" in runner.invoke(args=["sms", "deliver"]).output  # attempt 3 = SMS_MAX_ATTEMPTS
    dead = message(db_session, message_id)
    assert (dead.status, dead.attempts) == ("failed", 3)
    assert "0 queued message(s)" in runner.invoke(args=["sms", "deliver"]).output
    assert len(provider.requests) == 3


@http_backend
@pytest.mark.parametrize("provider", [503], indirect=True)
def test_the_cli_delivers_what_failed_once_the_provider_is_back(app, db_session, provider):
    message_id = queue_and_commit(db_session)
    assert message(db_session, message_id).status == "queued"
    provider.status = 200
    result = app.test_cli_runner().invoke(args=["sms", "deliver"])
    assert "1 queued message(s) handed to delivery." in result.output
    sent = message(db_session, message_id)
    assert (sent.status, sent.attempts, sent.error, sent.provider_id) == ("sent", 2, None, "prov-2")


def test_the_outbox_gateway_is_what_the_default_config_builds(app):
    assert isinstance(gateway_from_config(app.config), OutboxGateway)


def test_a_broker_outage_leaves_the_message_queued_and_the_change_committed(app, db_session, monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(jobs.deliver_sms, "delay", broker_down)
    message = sms.queue_sms(db_session, to="+79161234567", text="hello", purpose="notice")
    db_session.commit()  # must not raise: the data is already committed
    assert db_session.get(SmsMessage, message.id).status == "queued"
