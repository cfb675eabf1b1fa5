"""The SIM-swap and port-out lock: on at once, off only after the delay (the boundary exactly), the second-staff
rule for SIM reissues and port-outs under the lock, the ICCID's check digit, and the SMS each step sends."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import provisioning, simlock
from portal.domain.audit import Actor
from portal.domain.contracts import CannotTerminate
from portal.domain.errors import NotFound
from portal.models import (
    Account,
    AccountStatus,
    AuditEvent,
    GuardedAction,
    HomeContract,
    LoginAccount,
    PortOut,
    SmsMessage,
    SwitchCommand,
    utcnow,
)
from portal.provisioning import SwitchUnavailable
from tests import factories

WORDING = simlock.Wording(brand="TestTel", sms_locale="en", timezone="Europe/Moscow", support_phone="0890")
DAY = timedelta(hours=24)
NEW_ICCID = "89701011234567890123"  # 20 digits, Luhn-valid
TODAY = date(2026, 12, 7)


def test_luhn_check_digit():
    assert simlock.luhn_ok("79927398713") and not simlock.luhn_ok("79927398710")
    assert simlock.parse_iccid("8970 1011 2345 6789 0123") == NEW_ICCID


@pytest.mark.parametrize("typed", ["89701011234567890127", "12701011234567890126", "8970101", "89x01011234567890126"])
def test_an_iccid_with_a_typo_or_the_wrong_shape_is_refused_on_its_field(typed):
    with pytest.raises(simlock.ActionRefused) as refused:
        simlock.parse_iccid(typed)
    assert refused.value.field == "iccid"


@pytest.fixture
def family(db_session):
    """One login: its line, a second line and a home contract with a contact phone."""
    main = factories.make_line(db_session, "+79161234567")
    login = factories.make_login(db_session, main)
    second = factories.make_line(db_session, "+79031112233", customer=main.customer)
    home = Account(customer=main.customer, kind="home", region="Moscow")
    db_session.add_all([home, HomeContract(account=home, contract_no="H-1", address="Street 1",
                                           connection_type="gpon", contact_phone="+79265554433")])
    db_session.flush()
    for account in (second, home):
        db_session.add(LoginAccount(login_id=login.id, account_id=account.id))
    db_session.commit()
    return dict(login=login, main=main, second=second, home=home, actor=Actor(login_id=login.id, account_id=main.id))


def key(n: int) -> str:
    return f"simlock-test-key-{n:04d}"


def turn_on(db_session, family, now, n=1):
    return simlock.turn_on(db_session, account_id=family["main"].id, idempotency_key=key(n), actor=family["actor"],
                           now=now)


def release(db_session, family, now, n=2):
    return simlock.request_release(db_session, account_id=family["main"].id, login_id=family["login"].id,
                                   idempotency_key=key(n), delay=DAY, actor=family["actor"], now=now,
                                   wording=WORDING)


def test_the_lock_is_on_at_once_and_a_repeated_submission_changes_nothing(db_session, family):
    now = utcnow()
    assert not simlock.lock_state(db_session, family["main"].id, now=now).on
    assert turn_on(db_session, family, now) is True
    assert turn_on(db_session, family, now) is False  # the same key
    assert turn_on(db_session, family, now, n=9) is False  # on already
    assert simlock.lock_state(db_session, family["main"].id, now=now).on
    assert db_session.scalar(select(func.count()).where(AuditEvent.action == "sim_lock_on")) == 1


def test_the_release_takes_effect_exactly_after_the_delay_and_is_told_to_every_number(db_session, family):
    now = utcnow()
    turn_on(db_session, family, now)
    release_at = release(db_session, family, now)
    assert release_at == now + DAY
    main = family["main"].id
    assert simlock.lock_state(db_session, main, now=release_at - timedelta(seconds=1)).on
    assert simlock.lock_state(db_session, main, now=release_at - timedelta(seconds=1)).release_pending
    assert not simlock.lock_state(db_session, main, now=release_at).on
    sms = db_session.scalars(select(SmsMessage).where(SmsMessage.purpose == "notice")).all()
    assert sorted(m.to for m in sms) == ["+79031112233", "+79161234567", "+79265554433"]
    assert all("switches off at" in m.text and m.text.startswith("TestTel:") for m in sms)
    assert release(db_session, family, now) is None  # the same submission again
    assert release(db_session, family, now, n=5) == release_at  # asked again: the first moment stands, no new SMS
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 3


def test_the_customer_cancels_a_waiting_release_but_not_one_that_has_taken_effect(db_session, family):
    now = utcnow()
    turn_on(db_session, family, now)
    release(db_session, family, now)
    assert simlock.cancel_release(db_session, account_id=family["main"].id, actor=family["actor"], now=now)
    assert not simlock.lock_state(db_session, family["main"].id, now=now + 2 * DAY).release_pending
    assert simlock.lock_state(db_session, family["main"].id, now=now + 2 * DAY).on
    release(db_session, family, now, n=3)
    assert not simlock.cancel_release(db_session, account_id=family["main"].id, actor=family["actor"], now=now + DAY)
    assert turn_on(db_session, family, now + DAY, n=4) is True  # on again after the release
    assert simlock.lock_state(db_session, family["main"].id, now=now + 3 * DAY).on


def test_switching_off_a_lock_that_is_off_is_refused(db_session, family):
    with pytest.raises(simlock.SimLockRefused):
        release(db_session, family, utcnow())


@pytest.fixture
def agents(db_session):
    return (factories.make_staff(db_session, email="a@example.com"),
            factories.make_staff(db_session, email="b@example.com", role="admin"))


def reissue(db_session, account, staff, n=10, iccid=NEW_ICCID):
    return simlock.start_sim_reissue(db_session, account_id=account.id, iccid=iccid, idempotency_key=key(n),
                                     actor=Actor(staff_id=staff.id), now=utcnow(), wording=WORDING)


def approve(db_session, action, staff, last4="1234"):
    return simlock.approve(db_session, action_id=action.id, document_type="passport", document_last4=last4,
                           actor=Actor(staff_id=staff.id), now=utcnow(), wording=WORDING)


def test_without_the_lock_a_sim_reissue_runs_at_once_through_the_switch(db_session, family, agents):
    action = reissue(db_session, family["main"], agents[0])
    assert action.state == simlock.DONE
    assert db_session.get(Account, family["main"].id).line.iccid == NEW_ICCID
    command = db_session.scalar(select(SwitchCommand).where(SwitchCommand.subject == "sim"))
    assert command.operation == "sim.replace" and NEW_ICCID in command.params
    sms = db_session.scalar(select(SmsMessage).where(SmsMessage.to == "+79161234567"))
    assert "SIM card of number" in sms.text and "0890" in sms.text
    # The new SIM may get the line's own SMS first: the owner's other numbers are told too, once each.
    told = db_session.scalars(select(SmsMessage.to).where(SmsMessage.text == sms.text)).all()
    assert sorted(told) == ["+79031112233", "+79161234567", "+79265554433"]
    assert reissue(db_session, family["main"], agents[0]) is None  # the same submission again


def test_under_the_lock_a_second_staff_member_must_check_the_identity(db_session, family, agents):
    first, second = agents
    turn_on(db_session, family, utcnow())
    action = reissue(db_session, family["main"], first)
    assert action.state == simlock.AWAITING_CHECK
    assert db_session.get(Account, family["main"].id).line.iccid is None
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 0
    with pytest.raises(simlock.SameStaff):
        approve(db_session, action, first)
    with pytest.raises(simlock.ActionRefused) as refused:
        approve(db_session, action, second, last4="12")
    assert refused.value.field == "document_last4"
    with pytest.raises(simlock.ActionRefused):  # one waiting at a time
        reissue(db_session, family["main"], first, n=11)
    done = approve(db_session, action, second, last4="ab12")
    assert done.state == simlock.DONE and done.approved_by == second.id and done.document_last4 == "AB12"
    assert db_session.get(Account, family["main"].id).line.iccid == NEW_ICCID
    assert approve(db_session, action, second).state == simlock.DONE  # a second click: nothing more
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 3  # the line and its owner's other two
    assert db_session.scalar(select(func.count()).where(AuditEvent.action == "identity_checked")) == 1


def test_a_sim_card_that_is_another_live_line_s_is_refused_now_and_at_the_second_check(db_session, family, agents):
    """A typo or a card handed over by someone else: the switch would put two numbers on one SIM."""
    family["second"].line.iccid = NEW_ICCID
    db_session.commit()
    with pytest.raises(simlock.ActionRefused) as refused:
        reissue(db_session, family["main"], agents[0])
    assert refused.value.field == "iccid"
    family["second"].line.iccid = None
    db_session.commit()
    turn_on(db_session, family, utcnow())
    action = reissue(db_session, family["main"], agents[0], n=11)
    family["second"].line.iccid = NEW_ICCID  # given to the other line while this one waited
    db_session.commit()
    with pytest.raises(simlock.ActionRefused):
        approve(db_session, action, agents[1])
    assert db_session.get(GuardedAction, action.id).state == simlock.AWAITING_CHECK
    assert db_session.get(Account, family["main"].id).line.iccid is None
    family["second"].status = AccountStatus.terminated.value  # a closed line's card may be reissued
    db_session.commit()
    assert approve(db_session, action, agents[1]).state == simlock.DONE


def test_an_action_that_waited_while_the_contract_ended_is_not_carried_out(db_session, family, agents):
    turn_on(db_session, family, utcnow())
    action = reissue(db_session, family["main"], agents[0])
    family["main"].status = AccountStatus.terminated.value
    db_session.commit()
    with pytest.raises(simlock.ActionRefused):
        approve(db_session, action, agents[1])
    assert db_session.get(GuardedAction, action.id).state == simlock.AWAITING_CHECK
    assert db_session.scalar(select(func.count()).select_from(SwitchCommand)) == 0
    assert simlock.cancel_action(db_session, action_id=action.id, actor=Actor(staff_id=agents[1].id), now=utcnow())


def test_a_waiting_release_still_guards_and_a_waiting_action_can_be_cancelled(db_session, family, agents):
    now = utcnow()
    turn_on(db_session, family, now)
    release(db_session, family, now)
    db_session.query(SmsMessage).delete()
    action = reissue(db_session, family["main"], agents[0])
    assert action.state == simlock.AWAITING_CHECK
    assert simlock.cancel_action(db_session, action_id=action.id, actor=Actor(staff_id=agents[0].id), now=now)
    assert not simlock.cancel_action(db_session, action_id=action.id, actor=Actor(staff_id=agents[0].id), now=now)
    assert db_session.get(GuardedAction, action.id).state == simlock.CANCELLED


def port_out(db_session, account, staff, n=20, recipient="Other Mobile"):
    return simlock.start_port_out(db_session, account_id=account.id, recipient=recipient, requested_on=TODAY,
                                  today=TODAY, idempotency_key=key(n), actor=Actor(staff_id=staff.id), now=utcnow(),
                                  wording=WORDING)


def test_a_port_out_starts_tells_the_number_and_done_ends_the_contract(db_session, family, agents):
    action = port_out(db_session, family["main"], agents[0])
    assert action.state == simlock.DONE
    port = db_session.scalar(select(PortOut))
    assert port.state == simlock.STARTED and port.recipient == "Other Mobile"
    assert "move number" in db_session.scalar(select(SmsMessage.text).where(SmsMessage.to == "+79161234567"))
    with pytest.raises(simlock.ActionRefused):
        port_out(db_session, family["main"], agents[0], n=21)
    assert simlock.finish_port_out(db_session, port_out_id=port.id, actor=Actor(staff_id=agents[1].id), now=utcnow())
    assert db_session.get(Account, family["main"].id).status == AccountStatus.terminated.value
    assert not simlock.finish_port_out(db_session, port_out_id=port.id, actor=Actor(staff_id=agents[1].id),
                                       now=utcnow())


def test_a_port_out_is_not_done_while_the_line_owes_money(db_session, family, agents):
    port_out(db_session, family["main"], agents[0])
    port = db_session.scalar(select(PortOut))
    db_session.get(Account, family["main"].id).balance = -100
    db_session.commit()
    with pytest.raises(CannotTerminate):  # the closing rules of domain.contracts: the debt is paid first
        simlock.finish_port_out(db_session, port_out_id=port.id, actor=Actor(staff_id=agents[1].id), now=utcnow())
    assert db_session.get(PortOut, port.id).state == simlock.STARTED
    assert db_session.get(Account, family["main"].id).status == AccountStatus.active.value


def test_a_cancelled_port_out_keeps_the_line_and_says_so(db_session, family, agents):
    port_out(db_session, family["main"], agents[0])
    port = db_session.scalar(select(PortOut))
    assert simlock.cancel_port_out(db_session, port_out_id=port.id, actor=Actor(staff_id=agents[1].id), now=utcnow(),
                                   wording=WORDING)
    assert db_session.get(Account, family["main"].id).status == AccountStatus.active.value
    assert "is cancelled" in db_session.scalars(select(SmsMessage.text).order_by(SmsMessage.id.desc())).first()


@pytest.mark.parametrize("recipient, requested_on, field", [
    ("", TODAY, "recipient"), ("Other", TODAY + timedelta(days=1), "requested_on"),
    ("Other", TODAY - timedelta(days=61), "requested_on"), ("Other", None, "requested_on")])
def test_a_port_out_needs_the_recipient_and_a_recent_date(db_session, family, agents, recipient, requested_on, field):
    with pytest.raises(simlock.ActionRefused) as refused:
        simlock.start_port_out(db_session, account_id=family["main"].id, recipient=recipient,
                               requested_on=requested_on, today=TODAY, idempotency_key=key(30),
                               actor=Actor(staff_id=agents[0].id), now=utcnow(), wording=WORDING)
    assert refused.value.field == field


def test_a_home_contract_has_no_sim(db_session, family, agents):
    with pytest.raises(NotFound):
        reissue(db_session, family["home"], agents[0])


def test_staff_see_each_lines_guard_in_one_query(db_session, family, agents, count_queries):
    turn_on(db_session, family, utcnow())
    reissue(db_session, family["main"], agents[0])
    ids = [family["main"].id, family["second"].id]
    with count_queries() as statements:
        guards = simlock.guards(db_session, ids, now=utcnow())
        assert guards[family["main"].id].waiting[0].requester.email == "a@example.com"  # loaded with it
    assert len(statements) == 1
    assert guards[family["main"].id].lock.on and guards[family["main"].id].waiting_for(simlock.SIM_REISSUE)
    assert not guards[family["second"].id].lock.on and not guards[family["second"].id].waiting


class CountingSwitch:
    def __init__(self):
        self.calls = []

    def apply(self, msisdn, command):
        self.calls.append((msisdn, command))
        return "sw-1"


class DownSwitch:
    def apply(self, msisdn, command):
        raise SwitchUnavailable("the switch is unreachable: timed out")


def test_the_sim_change_waits_while_the_switch_is_down_and_reaches_it_once(db_session, family, agents, monkeypatch):
    # The job is not handed the command (as with a lost broker): the sweep's apply_command sends it.
    monkeypatch.setattr(provisioning, "_send_after_commit", lambda session, command: None)
    reissue(db_session, family["main"], agents[0])
    command_id = db_session.scalar(select(SwitchCommand.id).where(SwitchCommand.subject == "sim"))
    with pytest.raises(SwitchUnavailable):  # down or timed out: another try comes later
        provisioning.apply_command(db_session, command_id, backend=DownSwitch(), now=utcnow(), max_attempts=3)
    assert db_session.get(SwitchCommand, command_id).status == "pending"
    assert db_session.get(Account, family["main"].id).line.iccid == NEW_ICCID  # our record stands meanwhile
    switch = CountingSwitch()
    for _ in range(2):  # the job and a sweep both try: the switch hears it once
        assert provisioning.apply_command(db_session, command_id, backend=switch, now=utcnow(),
                                          max_attempts=3) == "applied"
    assert switch.calls == [("+79161234567", {"id": f"cmd-{command_id}", "operation": "sim.replace",
                                              "params": {"iccid": NEW_ICCID}})]
