"""Switch commands on real PostgreSQL: two workers picking up one command send it once; two double-clicked
settings save and send once; the 301st blacklist entry is refused even when two arrive together."""
import secrets
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import blacklist, forwarding, provisioning
from portal.domain.audit import Actor
from portal.extensions import db
from portal.models import Account, BlacklistEntry, ForwardingRule, SwitchCommand, utcnow
from tests import factories
from tests.integration.test_tariff_concurrency import run_together

pytestmark = pytest.mark.postgres
LINE = "+79161234567"


class SlowSwitch:
    """Holds each command a moment (so a second worker arrives while the first is inside) and counts them."""

    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()

    def apply(self, msisdn, command):
        with self.lock:
            self.calls.append(command["id"])
        threading.Event().wait(0.3)
        return "sw-" + command["id"]


@pytest.fixture
def line(pg):
    with Session(db.engine) as session:
        account = factories.make_line(session, LINE, balance=100_000)
        login = factories.make_login(session, account)
        factories.make_service(session, code="blacklist", name="Blacklist", category="security", monthly_fee=0,
                               daily_fee=150)
        session.commit()
        return login.id, account.id


def count(model, *where):
    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_two_workers_on_one_command_send_it_once(pg, line):
    _, account_id = line
    with Session(db.engine) as session:
        account = session.get(Account, account_id)
        command_id = provisioning.queue_command(session, account, subject="forwarding:busy",
                                                operation="forwarding.set", params={"enabled": True}).id
        session.info.pop(provisioning.PENDING_KEY)
        session.commit()
    switch = SlowSwitch()
    apply = lambda session: provisioning.apply_command(session, command_id, backend=switch,  # noqa: E731
                                                       now=utcnow(), max_attempts=5)
    assert run_together(pg, [apply, apply]) == ["ok", "ok"]
    assert switch.calls == [f"cmd-{command_id}"]
    with Session(db.engine) as session:
        assert session.get(SwitchCommand, command_id).status == "applied"


def test_a_forwarding_change_double_clicked_at_once_is_saved_and_sent_once(pg, line):
    login_id, account_id = line
    key = secrets.token_urlsafe(24)

    def save(session):
        forwarding.set_forwarding(session, account_id=account_id, login_id=login_id, condition="busy",
                                  target="+79031112233", enabled=True, seconds=None, country="RU",
                                  idempotency_key=key, actor=Actor(), now=utcnow())

    assert run_together(pg, [save, save]) == ["ok", "ok"]
    assert count(ForwardingRule) == 1 and count(SwitchCommand) == 1


def test_the_last_free_blacklist_place_goes_to_one_of_two_numbers_at_once(pg, line):
    _, account_id = line

    def add(number):
        return lambda session: blacklist.add_number(session, account_id=account_id, msisdn=number, accept_fee=True,
                                                    limit=300, idempotency_key=secrets.token_urlsafe(24),
                                                    actor=Actor(), now=utcnow())

    with Session(db.engine) as session:
        add("+79035550000")(session)  # connects the service; then fill up to 299
        session.add_all([BlacklistEntry(account_id=account_id, msisdn=f"+7903556{n:04d}") for n in range(298)])
        session.commit()
    outcomes = run_together(pg, [add("+79035559998"), add("+79035559999")])
    assert sorted(o if o == "ok" else type(o).__name__ for o in outcomes) == ["BlacklistRefused", "ok"]
    assert count(BlacklistEntry) == 300


class HungSwitch:
    """Answers only when the test lets it: the switch that held four web workers for 9 s each."""

    def __init__(self):
        self.entered, self.release, self.calls = threading.Event(), threading.Event(), []

    def apply(self, msisdn, command):
        self.calls.append(command["id"])
        self.entered.set()
        self.release.wait(20)
        return "sw-" + command["id"]


def test_a_hung_switch_holds_no_lock_and_try_again_does_not_wait_for_it(pg, line):
    _, account_id = line
    with Session(db.engine) as session:
        command_id = provisioning.queue_command(session, session.get(Account, account_id), subject="line",
                                                operation="line.block").id
        session.info.pop(provisioning.PENDING_KEY)
        session.commit()
    switch = HungSwitch()
    worker = threading.Thread(target=lambda: run_together(pg, [lambda session: provisioning.apply_command(
        session, command_id, backend=switch, now=utcnow(), max_attempts=5)]))
    worker.start()
    try:
        assert switch.entered.wait(10)
        with db.engine.connect() as other:
            # NOWAIT: if the worker held either row this raises at once instead of waiting.
            other.execute(sa.text("select id from switch_command where id = :id for update nowait"),
                          {"id": command_id})
            other.execute(sa.text("select id from account where id = :id for update nowait"), {"id": account_id})
            other.rollback()
        with Session(db.engine) as session:
            session.execute(sa.text("set lock_timeout = '2s'"))  # a guard: the old code would wait here
            # The customer's "try again" on it, and a second worker (or the sweep) meanwhile: nothing waits.
            assert provisioning.retry(session, account_id=account_id, command_id=command_id, actor=Actor(),
                                      now=utcnow()) is False
            assert provisioning.apply_command(session, command_id, backend=switch, now=utcnow(),
                                              max_attempts=5) == "pending"
    finally:
        switch.release.set()
        worker.join(20)
    assert switch.calls == [f"cmd-{command_id}"]
    with Session(db.engine) as session:
        command = session.get(SwitchCommand, command_id)
        assert (command.status, command.claimed_until) == ("applied", None)


def test_try_again_on_a_command_a_job_is_recording_answers_at_once(pg, line):
    _, account_id = line
    with Session(db.engine) as session:
        command = provisioning.queue_command(session, session.get(Account, account_id), subject="line",
                                             operation="line.block")
        session.info.pop(provisioning.PENDING_KEY)
        command.status = "failed"
        session.commit()
        command_id = command.id
    with db.engine.connect() as job:  # the job's short transaction recording an answer
        job.execute(sa.text("select id from switch_command where id = :id for update"), {"id": command_id})
        with Session(db.engine) as session, pytest.raises(sa.exc.OperationalError) as caught:
            provisioning.retry(session, account_id=account_id, command_id=command_id, actor=Actor(), now=utcnow())
        assert caught.value.orig.sqlstate == "55P03"  # lock not available: the web answers 503 busy
        job.rollback()
