"""Call forwarding rules: targets are checked, each change is one command to the switch."""
import json
import secrets

import pytest
from sqlalchemy import func, select

from portal.domain import forwarding
from portal.domain.audit import Actor
from portal.models import AuditEvent, ForwardingRule, LoginAccount, SwitchCommand, utcnow
from tests import factories

OWN = "+79161234567"
CHILD = "+79161234568"
FRIEND = "+79031112233"


@pytest.fixture
def lines(db_session):
    """A login that manages two lines (OWN and CHILD)."""
    own = factories.make_line(db_session, OWN)
    child = factories.make_line(db_session, CHILD, customer=own.customer)
    login = factories.make_login(db_session, own)
    db_session.add(LoginAccount(login_id=login.id, account_id=child.id))
    db_session.commit()
    return login, own, child


def set_rule(session, login, account, condition="busy", target=FRIEND, enabled=True, seconds=None, key=None):
    return forwarding.set_forwarding(session, account_id=account.id, login_id=login.id, condition=condition,
                                     target=target, enabled=enabled, seconds=seconds, country="RU",
                                     idempotency_key=key or secrets.token_urlsafe(24),
                                     actor=Actor(login_id=login.id, account_id=account.id), now=utcnow())


def test_a_rule_is_saved_sent_to_the_switch_and_audited(db_session, lines):
    login, own, _child = lines
    assert set_rule(db_session, login, own, "no_answer", seconds=15)
    rule = db_session.scalar(select(ForwardingRule))
    assert (rule.condition, rule.target, rule.enabled, rule.seconds) == ("no_answer", FRIEND, True, 15)
    command = db_session.scalar(select(SwitchCommand))
    assert (command.subject, command.operation, command.status) == ("forwarding:no_answer", "forwarding.set",
                                                                     "applied")
    assert json.loads(command.params) == {"condition": "no_answer", "enabled": True, "seconds": 15, "target": FRIEND}
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "forwarding_changed"))
    assert event.detail.startswith("no_answer: on +7 903")


def test_the_same_submission_twice_changes_and_sends_once(db_session, lines):
    login, own, _child = lines
    key = secrets.token_urlsafe(24)
    assert set_rule(db_session, login, own, key=key)
    assert not set_rule(db_session, login, own, key=key)
    assert db_session.scalar(select(func.count()).select_from(SwitchCommand)) == 1


def test_switching_off_keeps_the_number_for_next_time(db_session, lines):
    login, own, _child = lines
    set_rule(db_session, login, own)
    set_rule(db_session, login, own, target=None, enabled=False)
    rule = db_session.scalar(select(ForwardingRule))
    assert (rule.enabled, rule.target) == (False, FRIEND)
    assert [c.condition for c in forwarding.conditions_of(db_session, own.id) if c.enabled] == []


@pytest.mark.parametrize(("condition", "target", "seconds", "field", "message"), [
    ("busy", OWN, None, "target", "the number itself"),
    ("busy", "+442079460000", None, "target", "only to numbers in this country"),
    ("busy", None, None, "target", "Enter the number"),
    ("no_answer", FRIEND, 4, "seconds", "from 5 to 30"),
    ("no_answer", FRIEND, 31, "seconds", "from 5 to 30"),
])
def test_bad_targets_and_times_are_refused_with_the_reason(db_session, lines, condition, target, seconds, field,
                                                           message):
    login, own, _child = lines
    with pytest.raises(forwarding.ForwardingRefused) as refused:
        set_rule(db_session, login, own, condition, target=target, seconds=seconds)
    assert refused.value.field == field and message in str(refused.value.message)
    assert db_session.scalar(select(func.count()).select_from(ForwardingRule)) == 0
    assert db_session.scalar(select(func.count()).select_from(SwitchCommand)) == 0


def test_a_loop_between_lines_of_the_same_login_is_refused(db_session, lines):
    login, own, child = lines
    set_rule(db_session, login, child, "unreachable", target=OWN)  # the child's calls come to the parent
    with pytest.raises(forwarding.ForwardingRefused) as refused:
        set_rule(db_session, login, own, "always", target=CHILD)
    assert "loop" in str(refused.value.message)
    set_rule(db_session, login, child, "unreachable", target=None, enabled=False)
    assert set_rule(db_session, login, own, "always", target=CHILD)  # no loop once the child's is off


def test_a_longer_loop_through_a_third_line_is_found(db_session, lines):
    login, own, child = lines
    third = factories.make_line(db_session, "+79161234569", customer=own.customer)
    db_session.add(LoginAccount(login_id=login.id, account_id=third.id))
    db_session.commit()
    set_rule(db_session, login, child, "busy", target="+79161234569")
    set_rule(db_session, login, third, "busy", target=OWN)
    with pytest.raises(forwarding.ForwardingRefused):
        set_rule(db_session, login, own, "busy", target=CHILD)


def test_an_unknown_condition_is_not_found(db_session, lines):
    login, own, _child = lines
    with pytest.raises(forwarding.NotFound):
        set_rule(db_session, login, own, "sometimes")
