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
