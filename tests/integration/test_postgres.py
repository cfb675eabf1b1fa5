"""Concurrency on real PostgreSQL: two simultaneous SMS-password requests for one number send one SMS."""
import dataclasses
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.domain import auth, captcha
from portal.extensions import db
from portal.models import Login, PasswordRequest, SmsMessage, utcnow
from tests import factories

pytestmark = pytest.mark.postgres

MSISDN = "+79161234567"
ANSWER = "TESTX"
HOLD = 0.3  # seconds each request sleeps right after locking the line, to make the race real


def hold_after_line_lock(engine, holds: list):
    """Sleep after the request reads (and locks) the line: without the lock both then find no earlier request."""

    def after(conn, cursor, statement, *args):
        if statement.startswith("SELECT line.account_id") and "FROM line" in statement:
            holds.append(statement)
            time.sleep(HOLD)

    sa.event.listen(engine, "after_cursor_execute", after)
    return lambda: sa.event.remove(engine, "after_cursor_execute", after)


@pytest.mark.parametrize("returning", [False, True], ids=["first-time", "has-a-login"])
def test_two_simultaneous_requests_for_one_number_queue_one_sms(pg, returning):
    engine = db.engine
    assert engine.dialect.name == "postgresql"
    policy = dataclasses.replace(auth.AuthPolicy.from_config(pg.config), captcha_test_answer=ANSWER)
    with Session(engine) as session:
        account = factories.make_line(session, MSISDN)
        if returning:
            factories.make_login(session, account)
        session.commit()
        tokens = [captcha.new_challenge(session, key=policy.captcha_key, length=policy.captcha_length,
                                        ttl=policy.captcha_ttl, now=utcnow()) for _ in range(2)]

    barrier = threading.Barrier(2, timeout=10)
    outcomes: dict[int, object] = {}

    def request(n: int) -> None:
        with pg.app_context(), Session(engine) as session:
            barrier.wait()
            now = utcnow()
            try:
                auth.request_sms_password(session, msisdn=MSISDN, captcha_token=tokens[n], captcha_answer=ANSWER,
                                          ip=f"192.0.2.{n + 1}", now=now, policy=policy)
                outcomes[n] = ("ok", now)
            except Exception as err:  # the assertions below show it
                outcomes[n] = (err, now)

    holds: list[str] = []
    stop_holding = hold_after_line_lock(engine, holds)
    threads = [threading.Thread(target=request, args=(n,)) for n in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    finally:
        stop_holding()
    assert not any(thread.is_alive() for thread in threads)
    assert len(holds) == 2  # both requests went through the window

    kinds = sorted(type(result).__name__ if result != "ok" else "ok" for result, _ in outcomes.values())
    assert kinds == ["TryLater", "ok"], outcomes
    (winner_now,) = [now for result, now in outcomes.values() if result == "ok"]
    (refusal,) = [result for result, _ in outcomes.values() if result != "ok"]
    assert refusal.field == "phone" and refusal.status == 429
    # One request a minute per number: the refused one may retry a minute after the winner's.
    assert abs(refusal.retry_after - (winner_now + timedelta(seconds=60))) < timedelta(seconds=1)

    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(PasswordRequest)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(Login)) == 1
        assert session.scalar(sa.select(SmsMessage.to)) == MSISDN


def test_jobs_for_a_phone_and_a_contract_that_lists_it_send_one_sms(pg):
    """Issue 14.14 under concurrency: both jobs read the phone's quota; the advisory lock makes the second wait."""
    from portal.models import Account, HomeContract

    policy = auth.AuthPolicy.from_config(pg.config)
    with Session(db.engine) as session:
        factories.make_line(session, MSISDN)
        customer = factories.make_customer(session)
        home = Account(customer=customer, kind="home", region=customer.region, balance=0)
        session.add_all([home, HomeContract(account=home, contract_no="HC-100200", address="Moscow",
                                            connection_type="gpon", contact_phone=MSISDN)])
        now = utcnow()
        requests = [PasswordRequest(msisdn=MSISDN, created_at=now), PasswordRequest(msisdn="HC-100200", created_at=now)]
        session.add_all(requests)
        session.commit()
        ids = [r.id for r in requests]

    def after(conn, cursor, statement, *args):
        if "FROM sms_message" in statement and "sms_message.purpose" in statement:
            time.sleep(HOLD)  # both read the quota before either has sent, unless one waits for the other

    barrier = threading.Barrier(2, timeout=10)
    outcomes = {}

    def job(n: int) -> None:
        with pg.app_context(), Session(db.engine) as session:
            barrier.wait()
            outcomes[n] = auth.fulfil_password_request(session, ids[n], now=utcnow(), policy=policy)

    sa.event.listen(db.engine, "after_cursor_execute", after)
    try:
        threads = [threading.Thread(target=job, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", after)
    assert sorted(outcomes.values()) == ["phone quota", "sent"]
    with Session(db.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == 1
