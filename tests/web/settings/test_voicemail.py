"""The voicemail page: settings, messages with delete, a new PIN by SMS."""
import pytest
from sqlalchemy import func, select

from portal.models import SmsMessage, SwitchCommand, VoicemailBox, VoiceMessage
from tests import factories
from tests.helpers import key_of

PHONE = "+79161234567"


@pytest.fixture
def signed_in(client, login_as, db_session):
    login_as(PHONE)
    account = factories.ensure_login(db_session, PHONE).primary_account
    db_session.add_all([VoiceMessage(account_id=account.id, reference="vm-1", caller="+79031112233", duration_s=24),
                        VoiceMessage(account_id=account.id, reference="vm-2", caller=None, duration_s=8)])
    db_session.commit()
    return client


def count(db_session, model, *where):
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_page_lists_messages_and_the_settings(signed_in):
    page = signed_in.get("/settings/voicemail")
    assert page.status_code == 200
    assert "+7 903 111-22-33" in page.text and "Hidden number" in page.text and "24 s" in page.text
    assert 'name="conditions" type="checkbox" value="busy"' in page.text


def test_saving_the_settings(signed_in, db_session):
    key = key_of(signed_in.get("/settings/voicemail").text)
    response = signed_in.post_form("/settings/voicemail", {"idempotency_key": key, "enabled": "y",
                                                           "conditions": ["busy", "unreachable"]})
    assert response.status_code == 303
    box = db_session.scalar(select(VoicemailBox))
    assert (box.enabled, box.conditions) == (True, "busy,unreachable")
    assert "applied" in signed_in.get("/settings/voicemail").text
    assert "Voicemail changed" in signed_in.get("/archive").text


@pytest.mark.parametrize("conditions", [[], ["sometimes"], ["x" * 10_000]])
def test_bad_settings_are_422_next_to_the_field(signed_in, db_session, conditions):
    key = key_of(signed_in.get("/settings/voicemail").text)
    response = signed_in.post_form("/settings/voicemail", {"idempotency_key": key, "enabled": "y",
                                                           "conditions": conditions})
    assert response.status_code == 422 and 'id="conditions-error"' in response.text
    assert count(db_session, VoicemailBox) == 0


def test_deleting_ticked_messages(signed_in, db_session):
    page = signed_in.get("/settings/voicemail").text
    key = key_of(page.split('id="voice-messages"')[1])
    first = db_session.scalar(select(VoiceMessage.id).where(VoiceMessage.reference == "vm-1"))
    assert signed_in.post_form("/settings/voicemail/delete", {"idempotency_key": key, "messages": [first]}
                               ).status_code == 303
    assert count(db_session, VoiceMessage) == 1
    assert count(db_session, SwitchCommand, SwitchCommand.operation == "voicemail.delete") == 1
    nothing = signed_in.post_form("/settings/voicemail/delete", {"idempotency_key": key_of(
        signed_in.get("/settings/voicemail").text.split('id="voice-messages"')[1])})
    assert nothing.status_code == 422


def test_another_lines_message_is_404(signed_in, db_session):
    other = factories.make_line(db_session, "+79031112233")
    db_session.add(VoiceMessage(account_id=other.id, reference="vm-other", duration_s=5))
    db_session.commit()
    foreign = db_session.scalar(select(VoiceMessage.id).where(VoiceMessage.reference == "vm-other"))
    key = key_of(signed_in.get("/settings/voicemail").text.split('id="voice-messages"')[1])
    assert signed_in.post_form("/settings/voicemail/delete", {"idempotency_key": key, "messages": [foreign]}
                               ).status_code == 404
    assert count(db_session, VoiceMessage) == 3


def test_a_new_pin_by_sms_limited_per_day(signed_in, db_session, app):
    app.config["VOICEMAIL_PIN_SMS_PER_DAY"] = 1
    assert signed_in.post_form("/settings/voicemail/pin").status_code == 303
    assert count(db_session, SmsMessage, SmsMessage.purpose == "voicemail_pin") == 1
    again = signed_in.post_form("/settings/voicemail/pin")
    assert again.status_code == 429 and "Try again after" in again.text
    assert count(db_session, SmsMessage, SmsMessage.purpose == "voicemail_pin") == 1


def test_posts_need_the_csrf_token(signed_in, db_session):
    assert signed_in.post("/settings/voicemail/pin").status_code == 400
    assert signed_in.post("/settings/voicemail", data={"enabled": "y", "conditions": ["busy"]}).status_code == 400
    assert count(db_session, SmsMessage, SmsMessage.purpose == "voicemail_pin") == count(db_session, VoicemailBox) == 0
