"""Lost jobs: late acknowledgement, their own queues, and the beat's sweep that hands out what a killed
worker left behind (queued SMS, pending switch commands, detail orders), by the times in the database;
and the settings that bound how long anything waits."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import jobs
from portal.details_jobs import send_detail_order
from portal.domain import provisioning, sms
from portal.extensions import celery
from portal.models import DetailOrder, SmsMessage, SwitchCommand, utcnow
from tests import factories

T0 = utcnow().replace(microsecond=0)


@pytest.fixture
def handed(monkeypatch):
    """What the sweep hands to which task, instead of running it."""
    calls = []
    for task in (jobs.deliver_sms, jobs.apply_switch_command, send_detail_order, jobs.send_sms_password):
        monkeypatch.setattr(task, "delay", lambda object_id, name=task.name: calls.append((name, object_id)))
    return calls


def lost_jobs(db_session):
    """A message, a switch command and a detail order queued at T0 whose jobs never ran."""
    account = factories.make_line(db_session)
    login = factories.make_login(db_session, account)
    message = sms.queue_sms(db_session, to="+79161234567", text="alert", purpose="alert")
    sent = sms.queue_sms(db_session, to="+79161234567", text="done", purpose="alert")
    command = provisioning.queue_command(db_session, account, subject="line", operation="line.block")
    order = DetailOrder(account_id=account.id, login_id=login.id, period_start=date(2026, 11, 1),
                        period_end=date(2026, 11, 30), format="csv", email="a@example.com",
                        idempotency_key="k" * 20)
    db_session.add(order)
    db_session.flush()
    for row in (message, sent, command, order):
        row.created_at = T0
    sent.status = "sent"
    db_session.info.clear()  # the jobs were lost: nothing is handed out on commit
    db_session.commit()
    return message.id, command.id, order.id


def test_the_sweep_leaves_fresh_jobs_alone_and_hands_out_those_older_than_a_few_minutes(app, db_session, handed):
    message_id, command_id, order_id = lost_jobs(db_session)
    assert app.config["JOBS_SWEEP_AFTER"] == 300
    assert jobs.sweep(now=T0 + timedelta(minutes=4)) == {"portal.deliver_sms": 0, "portal.apply_switch_command": 0,
                                                         "portal.send_detail_order": 0, "portal.notice_sms": 0,
                                                         "portal.send_sms_password": 0}
    assert handed == []
    jobs.sweep(now=T0 + timedelta(minutes=6))
    assert handed == [("portal.deliver_sms", message_id), ("portal.apply_switch_command", command_id),
                      ("portal.send_detail_order", order_id)]


def test_a_password_request_no_job_took_goes_again_after_a_minute_while_its_password_is_of_use(app, db_session,
                                                                                               handed):
    from portal.models import PasswordRequest

    request = PasswordRequest(msisdn="+79161234567", created_at=T0)
    db_session.add(request)
    db_session.commit()
    jobs.sweep(now=T0 + timedelta(seconds=30))
    assert handed == []  # its job may still be running
    jobs.sweep(now=T0 + timedelta(minutes=2))
    assert handed == [("portal.send_sms_password", request.id)]
    handed.clear()
    jobs.sweep(now=T0 + app.config["TEMP_PASSWORD_TTL"] + timedelta(seconds=1))
    assert handed == []  # too late for a password to be wanted


def test_the_sweep_leaves_a_job_a_worker_holds_until_its_claim_runs_out(app, db_session, handed):
    message_id, command_id, _ = lost_jobs(db_session)
    now = T0 + timedelta(minutes=10)
    db_session.get(SmsMessage, message_id).claimed_until = now + timedelta(seconds=30)
    db_session.get(SwitchCommand, command_id).claimed_until = now + timedelta(seconds=60)
    db_session.commit()
    jobs.sweep(now=now)
    assert [name for name, _ in handed] == ["portal.send_detail_order"]
    jobs.sweep(now=now + timedelta(seconds=61))
    assert ("portal.deliver_sms", message_id) in handed and ("portal.apply_switch_command", command_id) in handed


def test_swept_jobs_are_done_once_even_when_the_lost_one_comes_back(app, db_session, capsys):
    message_id, command_id, _ = lost_jobs(db_session)
    jobs.sweep(now=T0 + timedelta(minutes=6))  # eager here: delivered inline
    # The killed worker's task is redelivered by the broker after all (late acknowledgement): nothing twice.
    assert jobs.deliver_sms.apply(args=(message_id,)).get() == "sent"
    assert jobs.apply_switch_command.apply(args=(command_id,)).get() == "applied"
    db_session.expire_all()
    assert db_session.get(SmsMessage, message_id).attempts == 1
    assert db_session.get(SwitchCommand, command_id).attempts == 1
    assert capsys.readouterr().err.count("[SMS to +79161234567 from TestTel] alert") == 1


def test_a_delivery_claimed_by_another_worker_is_not_sent_again(app, db_session):
    message_id = sms.queue_sms(db_session, to="+79161234567", text="x", purpose="alert").id
    db_session.info.clear()
    db_session.commit()
    now = utcnow()
    sent = []

    class Gateway:
        def send(self, to, text, *, sender):
            sent.append(to)
            return "p-1"

    def deliver(at):
        return sms.deliver_sms(db_session, message_id, gateway=Gateway(), sender="TestTel", now=at, max_attempts=5,
                               lease=timedelta(seconds=30))

    db_session.get(SmsMessage, message_id).claimed_until = now + timedelta(seconds=30)
    db_session.commit()
    assert deliver(now) == "queued" and sent == []
    assert deliver(now + timedelta(seconds=31)) == "sent" and sent == ["+79161234567"]
    assert deliver(now + timedelta(seconds=62)) == "sent" and sent == ["+79161234567"]


def test_tasks_are_acknowledged_late_and_slow_ones_have_their_own_queues(app):
    conf = celery.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    route = celery.amqp.Router().route
    assert route({}, "portal.apply_switch_command")["queue"].name == "switch"
    assert route({}, "portal.send_detail_order")["queue"].name == "reports"
    assert route({}, "portal.deliver_sms")["queue"].name == conf.task_default_queue
    assert conf.beat_schedule["sweep-jobs"]["task"] == "portal.sweep_jobs"


def test_a_detail_order_is_mailed_with_no_transaction_open_and_a_claimed_one_is_not_mailed_again(app, db_session):
    from portal.domain import details
    from portal.extensions import db

    _, _, order_id = lost_jobs(db_session)
    mailed = []

    def send(message):
        with db.engine.connect() as other:
            claimed = other.scalar(select(DetailOrder.claimed_until).where(DetailOrder.id == order_id))
        mailed.append((db_session().in_transaction(), claimed, message["To"]))

    now = T0 + timedelta(minutes=1)
    deliver = lambda at: details.deliver_order(db_session, order_id, send=send, tz="Europe/Moscow",  # noqa: E731
                                               brand="TestTel", sender="no-reply@example.com", now=at,
                                               lease=timedelta(seconds=120))
    db_session.get(DetailOrder, order_id).claimed_until = now + timedelta(seconds=120)
    db_session.commit()
    assert deliver(now) == "pending" and mailed == []  # another worker has it
    later = now + timedelta(seconds=121)
    assert deliver(later) == "sent"
    assert mailed == [(False, later + timedelta(seconds=120), "a@example.com")]
    assert deliver(later) == "sent" and len(mailed) == 1


@pytest.mark.parametrize("value", ["5", -1, True])
def test_a_lock_timeout_that_is_not_seconds_stops_start_up(app, value):
    from portal import ConfigError, create_app

    with pytest.raises(ConfigError, match="DB_LOCK_TIMEOUT"):
        create_app({**app.config, "DB_LOCK_TIMEOUT": value})
