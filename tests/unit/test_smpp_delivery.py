"""SMS through the SMSC: the `flask sms smpp` process against a small SMPP server on loopback (tests/smpp_server.py).

The process runs in a thread, as `flask sms smpp` runs it; the test watches the outbox and what the SMSC saw.
"""
import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import jobs
from portal.domain import sms
from portal.extensions import db
from portal.models import SmsMessage, SmsPart, SmsReceipt, utcnow
from portal.sms import gateway_from_config
from portal.sms.smpp_process import process_from_config
from tests.smpp_server import ENQUIRE_LINK, ESME_RINVDSTADR, ESME_RMSGQFUL, ESME_RTHROTTLED, RESP, UNBIND, FakeSmsc

TO = "+79161234567"


@pytest.fixture
def smsc():
    server = FakeSmsc()
    yield server
    server.stop()


@pytest.fixture
def config_overrides(smsc):
    return {"SMS_BACKEND": "smpp", "SMPP_HOST": "127.0.0.1", "SMPP_PORT": smsc.port, "SMPP_SYSTEM_ID": "portal",
            "SMPP_PASSWORD": "secret", "SMPP_SYSTEM_TYPE": "", "SMPP_SUBMIT_RATE": 200, "SMPP_WINDOW": 10,
            "SMPP_TIMEOUT": 1, "SMPP_ENQUIRE_LINK": 30, "SMPP_RECONNECT_MIN": 0.05, "SMPP_RECONNECT_MAX": 0.4,
            "SMPP_THROTTLE_PAUSE": 0.05, "SMPP_RETRY_AFTER": 0.05, "SMPP_POLL": 0.02, "SMS_MAX_ATTEMPTS": 3}


@pytest.fixture
def process(app):
    engine = db.engine
    return process_from_config(app.config, lambda: Session(engine))


@contextmanager
def running(process):
    stop = threading.Event()
    thread = threading.Thread(target=process.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        assert not thread.is_alive()


def queue(db_session, text: str = "TestTel: your code 1234", purpose: str = "notice") -> int:
    message_id = sms.queue_sms(db_session, to=TO, text=text, purpose=purpose).id
    db_session.commit()
    return message_id


def outbox(db_session, message_id: int) -> SmsMessage:
    db_session.expire_all()
    return db_session.get(SmsMessage, message_id)


def parts(db_session, message_id: int) -> list[SmsPart]:
    db_session.expire_all()
    return list(db_session.scalars(select(SmsPart).where(SmsPart.message_id == message_id)
                                   .order_by(SmsPart.part_no)))


def wait_until(db_session, message_id: int, *statuses: str, timeout: float = 10.0) -> SmsMessage:
    deadline = time.monotonic() + timeout
    while True:
        message = outbox(db_session, message_id)
        if message.status in statuses:
            return message
        assert time.monotonic() < deadline, f"still {message.status}: {message.error}"
        time.sleep(0.02)


# --- the happy path ---------------------------------------------------------------------------------------------

def test_the_delivery_job_leaves_smpp_messages_to_the_process(app, db_session, smsc):
    message_id = queue(db_session)  # the commit ran the (eager) delivery job
    assert outbox(db_session, message_id).status == "queued" and outbox(db_session, message_id).attempts == 0
    assert jobs.sweep(now=utcnow())["portal.deliver_sms"] == 0
    with pytest.raises(ValueError):
        gateway_from_config(app.config)
    assert smsc.submits == []


def test_a_message_is_bound_submitted_and_its_receipt_makes_it_delivered(app, db_session, smsc, process):
    message_id = queue(db_session)
    with running(process):
        message = wait_until(db_session, message_id, "delivered")
        smsc.wait_for(lambda: smsc.deliver_resps)  # answered after the commit
    assert smsc.binds == [("portal", "secret", "")]
    [submit] = smsc.submits
    assert (submit["dest_ton"], submit["dest_npi"], submit["destination"]) == (1, 1, "79161234567")
    assert (submit["source_ton"], submit["source"]) == (5, "TestTel")  # the brand signs (SMS_SENDER unset)
    assert (submit["data_coding"], submit["esm_class"], submit["registered_delivery"]) == (0, 0, 1)
    assert submit["short_message"] == b"TestTel: your code 1234"
    assert message.provider_id == submit["smsc_id"] and message.sent_at and message.done_at
    assert message.attempts == 1 and message.claimed_until is None and message.error is None
    [part] = parts(db_session, message_id)
    assert (part.part_no, part.smsc_id, part.state, part.stat) == (1, submit["smsc_id"], "delivered", "DELIVRD")
    assert smsc.deliver_resps and all(status == 0 for _, status in smsc.deliver_resps)


def test_a_long_ucs2_message_goes_in_parts_and_is_delivered_when_every_part_is(app, db_session, smsc, process):
    text = "Баланс пополнен на 500 ₽, спасибо! " * 5  # 175 UCS-2 characters: 3 parts of 67
    message_id = queue(db_session, text)
    with running(process):
        wait_until(db_session, message_id, "delivered")
    assert len(smsc.submits) == 3
    assert {(s["data_coding"], s["esm_class"]) for s in smsc.submits} == {(8, 0x40)}
    headers = [s["short_message"][:6] for s in smsc.submits]
    assert headers == [bytes((5, 0, 3, message_id % 256, 3, n)) for n in (1, 2, 3)]
    assert b"".join(s["short_message"][6:] for s in smsc.submits).decode("utf-16-be") == text
    assert [(p.part_no, p.state) for p in parts(db_session, message_id)] == [(1, "delivered"), (2, "delivered"),
                                                                            (3, "delivered")]


@pytest.mark.parametrize(("stat", "status", "tlvs"), [("UNDELIV", "failed", False), ("EXPIRED", "expired", False),
                                                      ("REJECTD", "failed", True), ("EXPIRED", "expired", True)])
def test_a_failure_receipt_settles_the_message(app, db_session, smsc, process, stat, status, tlvs):
    smsc.receipt, smsc.receipt_tlvs = stat, tlvs
    message_id = queue(db_session)
    with running(process):
        message = wait_until(db_session, message_id, status)
    assert message.done_at is not None and parts(db_session, message_id)[0].stat == stat


def test_an_interim_receipt_changes_nothing_and_the_final_one_settles(app, db_session, smsc, process):
    smsc.receipt = "ENROUTE"
    message_id = queue(db_session)
    with running(process):
        wait_until(db_session, message_id, "sent")
        smsc.wait_for(lambda: len(smsc.deliver_resps) == 1)
        assert outbox(db_session, message_id).status == "sent"
        smsc.send_receipt(smsc.submits[0]["smsc_id"], "DELIVRD")
        wait_until(db_session, message_id, "delivered")


def test_receipts_that_arrive_together_are_recorded_in_one_transaction(app, db_session, smsc, process,
                                                                        monkeypatch):
    smsc.receipt = None
    ids = [queue(db_session, f"message {n}") for n in range(5)]
    with running(process):
        for message_id in ids:
            wait_until(db_session, message_id, "sent")
        calls = []
        real = sms.apply_receipts
        monkeypatch.setattr(sms, "apply_receipts", lambda session, receipts, **kw: calls.append(len(receipts))
                            or real(session, receipts, **kw))
        smsc.send_receipts([s["smsc_id"] for s in smsc.submits])
        for message_id in ids:
            wait_until(db_session, message_id, "delivered")
        smsc.wait_for(lambda: len(smsc.deliver_resps) == 5)
    assert calls == [5] and [status for _, status in smsc.deliver_resps] == [0] * 5


# --- receipts out of order, twice, unknown ---------------------------------------------------------------------

def test_a_receipt_before_the_submit_sm_resp_is_kept_and_applied(app, db_session, smsc, process):
    smsc.receipt_first, smsc.resp_delay = True, 0.5  # the receipt, then half a second, then the submit_sm_resp
    message_id = queue(db_session)
    with running(process):
        smsc.wait_for(lambda: smsc.deliver_resps)  # answered: it is kept for the part to come
        db_session.expire_all()
        assert db_session.scalars(select(SmsReceipt)).one().state == "delivered"
        assert outbox(db_session, message_id).status == "queued"
        wait_until(db_session, message_id, "delivered")
    assert parts(db_session, message_id)[0].stat == "DELIVRD"
    assert db_session.get(SmsReceipt, smsc.submits[0]["smsc_id"]) is None  # kept until the part took it


def test_a_receipt_twice_is_answered_twice_and_counted_once(app, db_session, smsc, process):
    smsc.receipt_twice = True
    message_id = queue(db_session)
    with running(process):
        wait_until(db_session, message_id, "delivered")
        smsc.wait_for(lambda: len(smsc.deliver_resps) == 2)
        first_done = outbox(db_session, message_id).done_at
    assert [status for _, status in smsc.deliver_resps] == [0, 0]
    assert len(parts(db_session, message_id)) == 1 and outbox(db_session, message_id).done_at == first_done


def test_a_submit_sm_resp_twice_records_the_part_once(app, db_session, smsc, process):
    smsc.answer_twice = True
    message_id = queue(db_session)
    with running(process):
        wait_until(db_session, message_id, "delivered")
        time.sleep(0.1)
    assert len(parts(db_session, message_id)) == 1 and process.stats["accepted"] == 1


def test_a_receipt_for_an_unknown_id_is_answered_and_kept(app, db_session, smsc, process):
    with running(process):
        wait_until(db_session, queue(db_session, "before"), "delivered")  # bound and at work (no race with the bind)
        answered = len(smsc.deliver_resps)  # the first message's receipt may be answered already
        smsc.send_receipt("NOBODY", "DELIVRD")
        smsc.wait_for(lambda: len(smsc.deliver_resps) > answered)
    assert smsc.deliver_resps[-1][1] == 0
    db_session.expire_all()
    assert db_session.get(SmsReceipt, "NOBODY").state == "delivered"


def test_a_receipt_that_cannot_be_recorded_is_refused_for_a_later_retry(app, db_session, smsc, process,
                                                                        monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(sms, "apply_receipts", broken)
    message_id = queue(db_session)
    with running(process):
        wait_until(db_session, message_id, "sent")
        smsc.wait_for(lambda: smsc.deliver_resps)
        assert smsc.deliver_resps[0][1] == 0x64  # ESME_RX_T_APPN: the SMSC sends it again later
        assert outbox(db_session, message_id).status == "sent"
        monkeypatch.undo()  # the database is back; the SMSC sends the receipt again (here: on the next bind)
        smsc.drop()
        wait_until(db_session, message_id, "delivered")
    assert [status for _, status in smsc.deliver_resps] == [0x64, 0]


# --- errors from the SMSC --------------------------------------------------------------------------------------

def test_throttling_pauses_and_sends_again_without_spending_attempts(app, db_session, smsc, process):
    smsc.submit_statuses.extend([ESME_RTHROTTLED, ESME_RMSGQFUL, ESME_RTHROTTLED])
    message_id = queue(db_session)
    with running(process):
        message = wait_until(db_session, message_id, "delivered")
    assert len(smsc.submits) == 4 and message.attempts == 1 and message.error is None
    gaps = [b["at"] - a["at"] for a, b in zip(smsc.submits, smsc.submits[1:])]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2  # the pause doubles while the SMSC says so
    assert process.stats["refused"] == 3


def test_a_permanent_error_fails_the_message_at_once(app, db_session, smsc, process):
    smsc.submit_statuses.append(ESME_RINVDSTADR)
    message_id = queue(db_session)
    with running(process):
        message = wait_until(db_session, message_id, "failed")
        time.sleep(0.1)
    assert len(smsc.submits) == 1 and "0x0000000B" in message.error and message.done_at


def test_a_passing_error_is_retried_until_the_attempts_run_out(app, db_session, smsc, process):
    smsc.submit_statuses.extend([0x08] * 5)  # ESME_RSYSERR every time
    message_id = queue(db_session)
    with running(process):
        message = wait_until(db_session, message_id, "failed")
    assert len(smsc.submits) == 3 and message.attempts == 3 and "0x00000008" in message.error


# --- the connection --------------------------------------------------------------------------------------------

def test_a_connection_dropped_mid_way_reconnects_and_sends_again(app, db_session, smsc, process):
    smsc.drop_at_submit = 1
    message_id = queue(db_session)
    with running(process):
        message = wait_until(db_session, message_id, "delivered")
    assert smsc.connections == 2 and len(smsc.binds) == 2 and len(smsc.submits) == 2
    assert message.attempts == 2 and process.stats["binds"] == 2


def test_a_long_message_cut_after_its_first_part_sends_only_what_was_not_accepted(app, db_session, smsc, process):
    process.settings = type(process.settings)(**{**process.settings.__dict__, "window": 1})  # one part at a time
    smsc.drop_at_submit = 3
    text = "x" * 400  # 3 GSM-7 parts
    message_id = queue(db_session, text)
    with running(process):
        wait_until(db_session, message_id, "delivered")
    assert [p.part_no for p in parts(db_session, message_id)] == [1, 2, 3]
    assert [s["short_message"][5] for s in smsc.submits] == [1, 2, 3, 3]  # after the cut: the third part only


def test_a_slow_smsc_is_given_up_after_the_timeout_and_the_message_sent_again(app, db_session, smsc, process):
    smsc.resp_delay = 8  # SMPP_TIMEOUT is 1 s
    message_id = queue(db_session)
    with running(process):
        smsc.wait_for(lambda: smsc.submits)
        smsc.resp_delay = 0
        started = time.monotonic()
        message = wait_until(db_session, message_id, "delivered")
    # It did not wait for the slow answer (8 s); the margin is for a busy machine, not a measure of speed.
    assert time.monotonic() - started < 6
    assert smsc.connections == 2 and len(smsc.submits) == 2 and message.attempts == 2


def test_an_smsc_that_refuses_the_bind_is_tried_again_with_growing_bounded_delays(app, db_session, smsc, process):
    smsc.password = "other"
    message_id = queue(db_session)
    with running(process):
        smsc.wait_for(lambda: len(smsc.binds) >= 5, timeout=5)
        assert outbox(db_session, message_id).status == "queued"
        smsc.password = "secret"
        wait_until(db_session, message_id, "delivered", timeout=3)
    assert process.failures == 0


def test_an_smsc_that_does_not_answer_the_bind_is_given_up_after_the_timeout(app, db_session, smsc, process):
    smsc.bind_delay = 3  # SMPP_TIMEOUT is 1 s
    message_id = queue(db_session)
    with running(process):
        smsc.wait_for(lambda: smsc.binds)
        smsc.bind_delay = 0
        started = time.monotonic()
        wait_until(db_session, message_id, "delivered")
    assert time.monotonic() - started < 3 and len(smsc.binds) == 2


def test_nothing_listening_leaves_the_messages_queued_and_the_process_keeps_trying(app, db_session, process):
    import socket

    with socket.socket() as placeholder:  # a port nobody listens on
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    process.settings = type(process.settings)(**{**process.settings.__dict__, "port": port})
    message_id = queue(db_session)
    with running(process):
        deadline = time.monotonic() + 5
        while process.failures < 3:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    message = outbox(db_session, message_id)
    assert (message.status, message.attempts) == ("queued", 0)


def test_the_backoff_doubles_up_to_the_bound(process):
    delays = []
    for failures in range(1, 9):
        process.failures = failures
        delays.append(process.backoff())
    assert delays == [0.05, 0.1, 0.2, 0.4, 0.4, 0.4, 0.4, 0.4]


def test_an_smsc_down_at_start_is_waited_for(app, db_session, smsc, process):
    smsc.refuse_connections = 2
    message_id = queue(db_session)
    with running(process):
        wait_until(db_session, message_id, "delivered")
    assert smsc.connections == 3


def test_enquire_link_keeps_the_link_and_the_smscs_is_answered(app, db_session, smsc, process):
    process.settings = type(process.settings)(**{**process.settings.__dict__, "enquire_link": 0.1})
    with running(process):
        smsc.wait_for(lambda: smsc.enquire_links >= 2)
        smsc.send(ENQUIRE_LINK)
        smsc.wait_for(lambda: ENQUIRE_LINK | RESP in smsc.responses)
    assert smsc.connections == 1


def test_a_silent_smsc_is_taken_as_dead_and_reconnected(app, db_session, smsc, process):
    smsc.answer_enquire_link = False
    process.settings = type(process.settings)(**{**process.settings.__dict__, "enquire_link": 0.1, "timeout": 0.3})
    with running(process):
        smsc.wait_for(lambda: smsc.connections >= 2)


def test_an_unbind_from_the_smsc_is_answered_and_the_process_binds_again(app, db_session, smsc, process):
    with running(process):
        wait_until(db_session, queue(db_session, "before"), "delivered")  # bound and at work (no race with the bind)
        smsc.send(UNBIND)
        smsc.wait_for(lambda: UNBIND | RESP in smsc.responses)
        smsc.wait_for(lambda: len(smsc.binds) == 2)
        message_id = queue(db_session)
        wait_until(db_session, message_id, "delivered")


# --- rate and window --------------------------------------------------------------------------------------------

def test_submits_keep_to_the_rate(app, db_session, smsc, process):
    process.settings = type(process.settings)(**{**process.settings.__dict__, "submit_rate": 10})
    ids = [queue(db_session, f"message {n}") for n in range(5)]
    with running(process):
        for message_id in ids:
            wait_until(db_session, message_id, "delivered")
    times = [s["at"] for s in smsc.submits]
    assert len(times) == 5 and times[-1] - times[0] >= 0.35  # 10/s: 4 gaps of 0.1 s


def test_no_more_submits_are_unanswered_than_the_window(app, db_session, smsc, process):
    # A generous timeout: on a loaded machine a 0.3 s answer can pass 1 s, the link is taken as dead and the
    # messages go again, which is not what this test is about.
    process.settings = type(process.settings)(**{**process.settings.__dict__, "window": 2, "timeout": 10})
    smsc.resp_delay = 0.3
    ids = [queue(db_session, f"message {n}") for n in range(4)]
    with running(process):
        for message_id in ids:
            wait_until(db_session, message_id, "delivered")
    submits = smsc.submits
    unanswered = [sum(1 for earlier in submits[:i] if earlier["answered_at"] > s["at"]) for i, s in enumerate(submits)]
    assert len(submits) == 4 and max(unanswered) <= 1  # each went with at most one other unanswered: 2 in all


# --- faults on our side, the CLI, the configuration ---------------------------------------------------------------

def test_a_database_error_while_recording_closes_the_link_and_the_message_goes_again(app, db_session, smsc, process,
                                                                                     monkeypatch):
    real, calls = sms.record_parts, []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(sms, "record_parts", flaky)
    message_id = queue(db_session)
    with running(process):
        message = wait_until(db_session, message_id, "delivered")
    assert smsc.connections == 2 and message.attempts == 2


def test_the_cli_refuses_to_run_without_the_smpp_backend(app):
    app.config["SMS_BACKEND"] = "outbox"
    result = app.test_cli_runner().invoke(args=["sms", "smpp"])
    assert result.exit_code != 0 and "SMS_BACKEND is not smpp" in result.output


def test_the_cli_catch_up_leaves_queued_messages_to_the_process(app, db_session, smsc):
    queue(db_session)
    result = app.test_cli_runner().invoke(args=["sms", "deliver"])
    assert "1 queued message(s): the `flask sms smpp` process sends them." in result.output
    assert smsc.connections == 0


def test_the_smpp_backend_needs_its_account(database_url):
    from portal import ConfigError, create_app
    from tests.conftest import base_config

    with pytest.raises(ConfigError, match="SMPP_SYSTEM_ID"):
        create_app({**base_config(database_url), "SMS_BACKEND": "smpp"})


def test_settings_read_from_the_environment_are_strings(app):
    from portal.sms.smpp import SmppSettings

    settings = SmppSettings.from_config({**app.config, "SMPP_PASSWORD": 1234, "SMPP_SYSTEM_ID": 42})
    assert (settings.password, settings.system_id) == ("1234", "42")


def test_flask_sms_smpp_runs_as_a_process_and_stops_cleanly_on_sigterm(app, db_session, smsc, database_url):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    message_id = queue(db_session)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "REDIS_URL"))},
           "DATABASE_URL": database_url, "SECRET_KEY": "test-only-secret", "PORTAL_SMS_BACKEND": "smpp",
           "PORTAL_SMPP_HOST": "127.0.0.1", "PORTAL_SMPP_PORT": str(smsc.port), "PORTAL_SMPP_SYSTEM_ID": "portal",
           "PORTAL_SMPP_PASSWORD": "secret", "PORTAL_SMPP_POLL": "0.05"}
    root = Path(__file__).resolve().parents[2]
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "sms", "smpp"], cwd=root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(db_session, message_id, "delivered", timeout=20)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=10)
    assert worker.returncode == 0, output
    assert "SMPP stopped" in output and "'submitted': 1" in output
    assert len(smsc.binds) == 1 and smsc.unbinds == 1  # it said goodbye
