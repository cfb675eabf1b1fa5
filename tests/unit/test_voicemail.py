"""Voicemail: settings and deletions are switch commands; a new PIN goes once to the switch and by SMS."""
import json
import secrets

import pytest
from sqlalchemy import func, select

from portal.domain import provisioning, voicemail
from portal.domain.audit import Actor
from portal.domain.auth import TryLater
from portal.domain.errors import NotFound
from portal.domain.passwords import check_secret
from portal.models import SmsMessage, SwitchCommand, VoicemailBox, VoiceMessage, utcnow
from tests import factories

LINE = "+79161234567"


@pytest.fixture
def line(db_session):
    account = factories.make_line(db_session, LINE)
    db_session.add_all([VoiceMessage(account_id=account.id, reference=f"vm-{n}", caller="+79031112233",
                                     duration_s=10 + n) for n in range(3)])
    db_session.commit()
    return account


def save(session, account, enabled=True, conditions=("busy", "no_answer"), key=None):
    return voicemail.save_settings(session, account_id=account.id, enabled=enabled, conditions=list(conditions),
                                   idempotency_key=key or secrets.token_urlsafe(24), actor=Actor(), now=utcnow())


def test_settings_are_saved_and_sent_to_the_switch_once(db_session, line):
    key = secrets.token_urlsafe(24)
    assert save(db_session, line, key=key)
    assert not save(db_session, line, key=key)
    box = db_session.get(VoicemailBox, line.id)
    assert (box.enabled, voicemail.conditions_of(box)) == (True, ["busy", "no_answer"])
    [command] = db_session.scalars(select(SwitchCommand)).all()
    assert (command.operation, command.status) == ("voicemail.set", "applied")
    assert json.loads(command.params) == {"conditions": ["busy", "no_answer"], "enabled": True}


@pytest.mark.parametrize(("enabled", "conditions", "message"), [
    (True, (), "Choose when calls go to voicemail"), (True, ("busy", "sometimes"), "Choose from the list")])
def test_bad_settings_are_refused(db_session, line, enabled, conditions, message):
    with pytest.raises(voicemail.VoicemailRefused) as refused:
        save(db_session, line, enabled, conditions)
    assert message in str(refused.value.message) and db_session.get(VoicemailBox, line.id) is None


def test_voicemail_can_be_switched_off_with_no_conditions(db_session, line):
    assert save(db_session, line, enabled=False, conditions=())
    assert db_session.get(VoicemailBox, line.id).enabled is False


def test_deleting_messages_tells_the_platform_and_another_lines_message_is_not_found(db_session, line):
    ids = [m.id for m in voicemail.messages_of(db_session, line.id)]
    assert voicemail.delete_messages(db_session, account_id=line.id, message_ids=ids[:2],
                                     idempotency_key=secrets.token_urlsafe(24), actor=Actor(), now=utcnow())
    assert [m.id for m in voicemail.messages_of(db_session, line.id)] == ids[2:]
    assert db_session.scalar(select(func.count()).select_from(SwitchCommand)
                             .where(SwitchCommand.operation == "voicemail.delete")) == 2
    other = factories.make_line(db_session, "+79031112233")
    db_session.add(VoiceMessage(account_id=other.id, reference="vm-other", duration_s=5))
    db_session.commit()
    foreign = db_session.scalar(select(VoiceMessage.id).where(VoiceMessage.reference == "vm-other"))
    with pytest.raises(NotFound):
        voicemail.delete_messages(db_session, account_id=line.id, message_ids=[foreign],
                                  idempotency_key=secrets.token_urlsafe(24), actor=Actor(), now=utcnow())
    assert db_session.get(VoiceMessage, foreign) is not None


def reset(session, account, per_day=3):
    voicemail.reset_pin(session, account=account, per_day=per_day, brand="TestTel", locale="en", actor=Actor(),
                        now=utcnow())


def test_a_new_pin_goes_by_sms_is_stored_hashed_and_is_not_kept_in_the_command(db_session, line):
    reset(db_session, line)
    sms = db_session.scalar(select(SmsMessage).where(SmsMessage.purpose == "voicemail_pin"))
    pin = sms.text.split("PIN is ")[1][:4]
    assert sms.is_secret and check_secret(db_session.get(VoicemailBox, line.id).pin_hash, pin)
    command = db_session.scalar(select(SwitchCommand).where(SwitchCommand.operation == "voicemail.pin"))
    assert command.status == "applied" and pin not in command.params and json.loads(command.params) == \
        {"secret_pin": "***"}


@pytest.mark.parametrize("config_overrides", [{"PROVISIONING_FAIL_NUMBERS": [LINE]}])
def test_a_failed_pin_is_not_retried_but_asked_for_again(db_session, line):
    reset(db_session, line)
    command = db_session.scalar(select(SwitchCommand).where(SwitchCommand.operation == "voicemail.pin"))
    assert command.status == "failed" and "secret_pin" in command.params and "***" in command.params
    with pytest.raises(provisioning.RetryRefused):
        provisioning.retry(db_session, account_id=line.id, command_id=command.id, actor=Actor(), now=utcnow())


def test_new_pins_are_limited_per_day(db_session, line):
    reset(db_session, line, per_day=2)
    reset(db_session, line, per_day=2)
    with pytest.raises(TryLater):
        reset(db_session, line, per_day=2)
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 2
