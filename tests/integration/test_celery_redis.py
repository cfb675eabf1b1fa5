"""With REDIS_URL the after-commit hook only publishes; a real Celery worker consuming Redis delivers.

The app's database is the session's (a SQLite *file*, or PostgreSQL), so the worker thread's own
connections see the rows this test commits.
"""
import time
import uuid

import kombu.pools
import pytest
import redis
from celery.contrib.testing.worker import start_worker
from sqlalchemy.orm import Session

from portal.domain import sms
from portal.extensions import celery, db
from portal.models import SmsMessage
from tests import services

pytestmark = pytest.mark.redis

TO = "+79161234567"
# Celery settings this module changes beyond what init_celery sets on every create_app.
EXTRA_SETTINGS = ("task_default_queue", "worker_hijack_root_logger", "worker_enable_remote_control")


def _forget_broker_connections() -> None:
    """Celery caches its broker pools and queue declarations from the first use; drop them."""
    if celery._pool is not None:
        celery._pool.force_close_all()
    celery._pool = None
    celery.__dict__.pop("amqp", None)
    kombu.pools.reset()


@pytest.fixture
def redis_url():
    return services.require_redis()


@pytest.fixture
def queue_name():
    return f"portal-test-{uuid.uuid4().hex[:10]}"  # our own queue: a parallel run cannot take our task


@pytest.fixture
def config_overrides(redis_url, queue_name):
    """Runs before ``app``: remembers Celery's settings and the Redis keys, restores both afterwards."""
    saved = {name: celery.conf[name] for name in EXTRA_SETTINGS}
    saved_log_setup = type(celery.log)._setup
    client = redis.Redis.from_url(redis_url)
    keys_before = set(client.keys("*"))
    _forget_broker_connections()
    yield {
        "REDIS_URL": redis_url,
        "CELERY": {
            "task_always_eager": False,  # undo TEST_USE_REDIS's eager override
            "task_default_queue": queue_name,
            "worker_hijack_root_logger": False,  # leave pytest's log capture alone
            "worker_enable_remote_control": False,  # no pidbox queues in Redis
        },
    }
    _forget_broker_connections()
    celery.conf.update(saved)
    type(celery.log)._setup = saved_log_setup
    # Ours: the queue and its binding. The limiter's counters (LIMITS:LIMITER/...) are reset by ``app``.
    ours = [key for key in set(client.keys("*")) - keys_before if not key.startswith(b"LIMITS")]
    if ours:
        client.delete(*ours)
    client.close()


def status_of(message_id: int) -> tuple[str, int, str | None]:
    with Session(db.engine) as session:
        row = session.get(SmsMessage, message_id)
        return row.status, row.attempts, row.provider_id


def test_a_queued_message_goes_through_redis_to_a_worker(app, db_session, redis_url, queue_name):
    assert celery.conf.broker_url == redis_url and not celery.conf.task_always_eager
    broker = redis.Redis.from_url(redis_url)
    try:
        message_id = sms.queue_sms(db_session, to=TO, text="TestTel: your password AB3DE", purpose="password").id
        db_session.commit()
        # Published, not sent inline.
        assert status_of(message_id) == ("queued", 0, None)
        assert broker.llen(queue_name) == 1

        with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            deadline = time.monotonic() + 20
            while status_of(message_id)[0] == "queued" and time.monotonic() < deadline:
                time.sleep(0.05)
            status, attempts, provider_id = status_of(message_id)

        assert (status, attempts) == ("sent", 1)
        assert provider_id.startswith("outbox-")
        assert broker.llen(queue_name) == 0
    finally:
        broker.close()


def test_a_switch_command_waits_on_its_own_queue_so_sms_passwords_never_queue_behind_it(app, db_session, redis_url,
                                                                                        queue_name):
    from portal.domain import provisioning
    from portal.jobs import SWITCH_QUEUE
    from tests import factories

    broker = redis.Redis.from_url(redis_url)
    try:
        switch_before = broker.llen(SWITCH_QUEUE)
        account = factories.make_line(db_session, TO)
        provisioning.queue_command(db_session, account, subject="line", operation="line.block")
        sms.queue_sms(db_session, to=TO, text="TestTel: your password AB3DE", purpose="password")
        db_session.commit()
        assert broker.llen(SWITCH_QUEUE) == switch_before + 1
        assert broker.llen(queue_name) == 1  # the SMS alone on the default queue
    finally:
        broker.close()


def test_the_sweep_hands_a_lost_message_to_a_worker_once(app, db_session, redis_url, queue_name):
    from datetime import timedelta

    from portal import jobs

    broker = redis.Redis.from_url(redis_url)
    try:
        message_id = sms.queue_sms(db_session, to=TO, text="TestTel: alert", purpose="alert").id
        db_session.info.clear()  # the job was lost (a worker killed with -9 before late acknowledgement existed)
        db_session.commit()
        later = db_session.get(SmsMessage, message_id).created_at + timedelta(minutes=6)
        db_session.rollback()
        jobs.sweep(now=later)
        jobs.sweep(now=later)  # two sweeps before any worker ran: the task is delivered twice
        assert broker.llen(queue_name) == 2
        with start_worker(celery, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            deadline = time.monotonic() + 20
            while broker.llen(queue_name) and time.monotonic() < deadline:
                time.sleep(0.05)
            deadline = time.monotonic() + 20
            while status_of(message_id)[0] == "queued" and time.monotonic() < deadline:
                time.sleep(0.05)
        assert status_of(message_id)[:2] == ("sent", 1)  # sent once
    finally:
        broker.close()
