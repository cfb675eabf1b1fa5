"""Switch commands: queued with the change, applied once after it commits, failed honestly, retried."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import jobs
from portal.domain import provisioning
from portal.domain.audit import Actor
from portal.extensions import db
from portal.models import AuditEvent, SwitchCommand, utcnow
from portal.provisioning import CommandRefused, SwitchUnavailable, backend_from_config
from portal.provisioning.dev import DevSwitch
from portal.provisioning.http import HttpSwitch
from tests import factories
from tests.fakes import JsonApi

LINE = "+79161234567"
FAILING = "+79169990000"


class FakeSwitch(JsonApi):
    """A provisioning system: remembers each command id and answers a repeat with the first result."""

    def __init__(self, status: int = 200):
        self.status = status
        self.done: dict[str, str] = {}
        super().__init__(self._answer, path="/commands")

    def _answer(self, body):
        if self.status >= 500:
            return self.status, {"error": "maintenance"}
        if self.status >= 400:
            return self.status, {"reason": "call forwarding is barred on this line"}
        reference = self.done.setdefault(body["id"], f"sw-{len(self.done) + 1}")
        return 200, {"reference": reference}


@pytest.fixture
def switch(request):
    fake = FakeSwitch(getattr(request, "param", 200))
    yield fake
    fake.stop()


@pytest.fixture
def config_overrides(request):
    jobs.apply_switch_command._get_current_object()
    if getattr(request, "param", None) == "http":
        switch = request.getfixturevalue("switch")
        return {"PROVISIONING_BACKEND": "http", "PROVISIONING_HTTP_URL": switch.url,
                "PROVISIONING_HTTP_TOKEN": "t0ken", "PROVISIONING_HTTP_TIMEOUT": 2}
    return {"PROVISIONING_FAIL_NUMBERS": [FAILING]}


http_backend = pytest.mark.parametrize("config_overrides", ["http"], indirect=True)


def queue(db_session, msisdn=LINE, subject="forwarding:busy", **params):
    account = factories.make_line(db_session, msisdn)
    command = provisioning.queue_command(db_session, account, subject=subject, operation="forwarding.set",
                                         params=params or {"enabled": True})
    db_session.commit()  # the after-commit hook hands it to the (eager) job
    return account, command.id


def fresh(command_id) -> SwitchCommand:
    db.session.expire_all()
    return db.session.get(SwitchCommand, command_id)


def test_a_queued_command_is_applied_after_the_transaction_commits(db_session):
    _account, command_id = queue(db_session)
    command = fresh(command_id)
    assert (command.status, command.attempts, command.reference, command.error) == \
        ("applied", 1, f"dev-cmd-{command_id}", None)
    assert command.finished_at is not None


def test_nothing_is_sent_for_a_change_that_rolled_back(db_session):
    account = factories.make_line(db_session, LINE)
    db_session.commit()
    command = provisioning.queue_command(db_session, account, subject="line", operation="line.block")
    command_id = command.id
    db_session.rollback()
    db_session.commit()
    assert fresh(command_id) is None
    assert "switch_pending" not in db_session.info


def test_the_development_switch_refuses_the_numbers_it_is_told_to_and_nothing_claims_applied(db_session):
    _account, command_id = queue(db_session, FAILING)
    command = fresh(command_id)
    assert command.status == "failed" and "refused" in command.error and command.reference is None


def test_a_failed_command_is_retried_once_per_request_and_applied_when_the_switch_agrees(db_session, app):
    account, command_id = queue(db_session, FAILING)
    app.config["PROVISIONING_FAIL_NUMBERS"] = []
    actor = Actor(login_id=None, account_id=account.id)
    assert provisioning.retry(db_session, account_id=account.id, command_id=command_id, actor=actor, now=utcnow())
    command = fresh(command_id)
    assert (command.status, command.attempts) == ("applied", 2)
    # A second click on the same "try again" finds it applied: nothing is sent again.
    assert not provisioning.retry(db_session, account_id=account.id, command_id=command_id, actor=actor,
                                  now=utcnow())
    assert fresh(command_id).attempts == 2
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "switch_retry")) == 1


def test_only_the_latest_failed_command_of_a_setting_can_be_retried(db_session, app):
    account, first = queue(db_session, FAILING)
    second = provisioning.queue_command(db_session, account, subject="forwarding:busy",
                                        operation="forwarding.set", params={"enabled": False}).id
    db_session.commit()
    assert fresh(second).status == "failed"
    with pytest.raises(provisioning.RetryRefused):
        provisioning.retry(db_session, account_id=account.id, command_id=first, actor=Actor(), now=utcnow())


def test_a_retried_job_sends_a_command_once(db_session):
    _account, command_id = queue(db_session)
    calls = []

    class Counting(DevSwitch):
        def apply(self, msisdn, command):
            calls.append(command)
            return super().apply(msisdn, command)

    for _ in range(3):  # the job delivered again (a broker redelivery, a second worker)
        assert provisioning.apply_command(db_session, command_id, backend=Counting(), now=utcnow(),
                                          max_attempts=5) == "applied"
    assert calls == []  # it was applied by the first job already
    assert fresh(command_id).attempts == 1


def test_an_older_pending_command_is_superseded_by_a_newer_one_of_the_same_setting(db_session, app):
    account = factories.make_line(db_session, LINE)
    db_session.commit()
    older = provisioning.queue_command(db_session, account, subject="forwarding:busy", operation="forwarding.set",
                                       params={"target": "+79031112233"}).id
    newer = provisioning.queue_command(db_session, account, subject="forwarding:busy", operation="forwarding.set",
                                       params={"target": "+79261234567"}).id
    db_session.info.pop("switch_pending")  # as if both jobs were still on their way
    db_session.commit()
    backend = backend_from_config(app.config)
    assert provisioning.apply_command(db_session, older, backend=backend, now=utcnow(), max_attempts=5) == \
        "superseded"
    assert provisioning.apply_command(db_session, newer, backend=backend, now=utcnow(), max_attempts=5) == "applied"
    latest = provisioning.latest(db_session, account.id, ["forwarding:busy", "line"])
    assert list(latest) == ["forwarding:busy"] and latest["forwarding:busy"].id == newer


def test_an_unreachable_switch_leaves_the_command_pending_for_the_job_to_try_again(db_session):
    account = factories.make_line(db_session, LINE)
    command_id = provisioning.queue_command(db_session, account, subject="line", operation="line.block").id
    db_session.info.pop("switch_pending")
    db_session.commit()

    class Down:
        def apply(self, msisdn, command):
            raise SwitchUnavailable("the switch is unreachable: timed out")

    with pytest.raises(SwitchUnavailable):
        provisioning.apply_command(db_session, command_id, backend=Down(), now=utcnow(), max_attempts=2)
    assert (fresh(command_id).status, fresh(command_id).attempts) == ("pending", 1)
    assert provisioning.apply_command(db_session, command_id, backend=Down(), now=utcnow(), max_attempts=2) == \
        "failed"
    assert "unreachable" in fresh(command_id).error


def test_pending_ids_lists_commands_left_waiting(db_session):
    account = factories.make_line(db_session, LINE)
    command_id = provisioning.queue_command(db_session, account, subject="line", operation="line.block").id
    db_session.info.pop("switch_pending")
    db_session.commit()
    assert provisioning.pending_ids(db_session, older_than=utcnow()) == [command_id]


def waiting_command(db_session) -> int:
    account = factories.make_line(db_session, LINE)
    command_id = provisioning.queue_command(db_session, account, subject="line", operation="line.block").id
    db_session.info.pop("switch_pending")  # as if its job were still on its way
    db_session.commit()
    return command_id


def test_the_switch_is_called_with_no_transaction_open_and_the_command_claimed(db_session):
    command_id = waiting_command(db_session)
    seen = []

    class Watching(DevSwitch):
        def apply(self, msisdn, command):
            with db.engine.connect() as other:  # what any other connection sees while the switch thinks
                seen.append((db_session().in_transaction(), other.scalar(
                    select(SwitchCommand.claimed_until).where(SwitchCommand.id == command_id))))
            return super().apply(msisdn, command)

    now = utcnow()
    assert provisioning.apply_command(db_session, command_id, backend=Watching(), now=now, max_attempts=5,
                                      lease=timedelta(seconds=60)) == "applied"
    assert seen == [(False, now + timedelta(seconds=60))]  # no lock held; the claim is committed
    assert fresh(command_id).claimed_until is None


def test_a_command_claimed_by_another_worker_is_left_alone_until_its_lease_runs_out(db_session, app):
    command_id = waiting_command(db_session)
    now = utcnow()
    db_session.get(SwitchCommand, command_id).claimed_until = now + timedelta(seconds=60)
    db_session.commit()
    calls = []

    class Counting(DevSwitch):
        def apply(self, msisdn, command):
            calls.append(command["id"])
            return super().apply(msisdn, command)

    assert provisioning.apply_command(db_session, command_id, backend=Counting(), now=now, max_attempts=5) == \
        "pending"
    assert calls == [] and provisioning.pending_ids(db_session, older_than=now + timedelta(minutes=5),
                                                    now=now) == []
    # The worker was killed: after the lease the sweep finds it and it goes out again under the same id.
    later = now + timedelta(seconds=61)
    assert provisioning.pending_ids(db_session, older_than=later, now=later) == [command_id]
    assert provisioning.apply_command(db_session, command_id, backend=Counting(), now=later, max_attempts=5) == \
        "applied"
    assert calls == [f"cmd-{command_id}"]


def test_an_answer_arriving_after_someone_elses_does_not_overwrite_it(db_session):
    command_id = waiting_command(db_session)

    class SlowThenOvertaken(DevSwitch):
        def apply(self, msisdn, command):
            with Session(db.engine) as other:  # the lease ran out and a second worker finished it first
                other.get(SwitchCommand, command_id).status = "failed"
                other.commit()
            return super().apply(msisdn, command)

    assert provisioning.apply_command(db_session, command_id, backend=SlowThenOvertaken(), now=utcnow(),
                                      max_attempts=5) == "failed"


def test_a_lease_not_longer_than_the_switch_timeout_stops_start_up(app):
    from portal import ConfigError, create_app

    with pytest.raises(ConfigError, match="PROVISIONING_LEASE"):
        create_app({**app.config, "PROVISIONING_LEASE": 10, "PROVISIONING_HTTP_TIMEOUT": 10})


# --- the HTTP backend against a local fake provisioning system -----------------------------------

@http_backend
def test_the_http_backend_applies_a_command_with_its_id_and_token(db_session, switch):
    _account, command_id = queue(db_session, condition="busy", target="+79031112233")
    command = fresh(command_id)
    assert (command.status, command.reference) == ("applied", "sw-1")
    assert switch.requests == [{"id": f"cmd-{command_id}", "msisdn": LINE, "operation": "forwarding.set",
                                "params": {"condition": "busy", "target": "+79031112233"}}]
    assert switch.headers[0]["Authorization"] == "Bearer t0ken"


@http_backend
@pytest.mark.parametrize("switch", [422], indirect=True)
def test_a_refusal_of_the_http_switch_is_failed_with_its_reason(db_session, switch):
    _account, command_id = queue(db_session)
    command = fresh(command_id)
    assert (command.status, command.error) == ("failed", "call forwarding is barred on this line")


@http_backend
@pytest.mark.parametrize("switch", [503], indirect=True)
def test_an_http_switch_down_in_the_eager_setup_fails_the_command_for_a_retry_from_the_page(db_session, switch):
    _account, command_id = queue(db_session)
    command = fresh(command_id)
    assert command.status == "failed" and "503" in command.error and len(switch.requests) == 1


def test_the_http_backend_maps_answers_to_outcomes():
    switch = FakeSwitch(200)
    try:
        backend = HttpSwitch(switch.url, None, timeout=2)
        command = {"id": "cmd-7", "operation": "line.block", "params": {}}
        assert backend.apply(LINE, command) == backend.apply(LINE, command) == "sw-1"  # a repeat: the same change
        switch.status = 409
        with pytest.raises(CommandRefused):
            backend.apply(LINE, command)
        switch.status = 500
        with pytest.raises(SwitchUnavailable):
            backend.apply(LINE, command)
    finally:
        switch.stop()
    with pytest.raises(SwitchUnavailable):
        HttpSwitch(switch.url, None, timeout=1).apply(LINE, {"id": "cmd-8", "operation": "x", "params": {}})


def test_params_are_stored_as_json(db_session):
    _account, command_id = queue(db_session, target="+79031112233", enabled=True)
    assert json.loads(fresh(command_id).params) == {"enabled": True, "target": "+79031112233"}
