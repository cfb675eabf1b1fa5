import re

import pytest
from sqlalchemy import select

from portal.models import AlertSettings, AuditEvent, SmsMessage
from tests import factories

PHONE = "+79161234567"


@pytest.fixture
def signed_in(client, login_as):
    login_as(PHONE)
    return client


def form(**values):
    return {"on_payment": "y", "on_new_device": "y", **values}


def test_the_alerts_page_saves_the_settings_of_the_number_in_focus(signed_in, db_session):
    page = signed_in.get("/settings/alerts").text
    assert re.search(r'<input checked id="on_payment"', page)  # on by default
    assert not re.search(r'<input checked id="on_every_login"', page)
    response = signed_in.post_form("/settings/alerts", form(low_balance="y", low_balance_below="150",
                                                            quiet_from="23:00", quiet_to="07:30"))
    assert response.status_code == 303
    saved = db_session.scalar(select(AlertSettings))
    assert (saved.low_balance_below, saved.on_payment, saved.on_change, saved.quiet_from, saved.quiet_to) == \
        (15_000, True, False, 23 * 60, 7 * 60 + 30)
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "alerts_changed"))
    assert 'value="150' in signed_in.get("/settings/alerts").text


@pytest.mark.parametrize(("values", "message"), [
    (dict(low_balance="y"), "Say below which amount"),
    (dict(low_balance="y", low_balance_below="abc"), ""),
    (dict(quiet_from="23:00"), "Give both the start and the end"),
    (dict(quiet_from="25:99", quiet_to="07:00"), ""),
])
def test_bad_input_is_refused_next_to_the_field(signed_in, db_session, values, message):
    response = signed_in.post_form("/settings/alerts", form(**values))
    assert response.status_code == 422 and message in response.text and 'class="error"' in response.text
    assert db_session.scalar(select(AlertSettings)) is None


def test_a_sign_in_from_a_new_device_sends_an_alert(signed_in, db_session, app):
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Linux; Android 13) Chrome/120.0 Mobile Safari/537.36"
    other.post_form("/auth/login", {"phone": PHONE, "password": factories.PASSWORD})
    texts = list(db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "alert")))
    assert len(texts) == 1 and "new device" in texts[0]
