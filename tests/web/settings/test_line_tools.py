"""Missed calls and the internet settings SMS."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, SmsMessage, UsageRecord, utcnow
from tests import factories

PHONE = "+79161234567"


@pytest.fixture
def signed_in(client, login_as):
    login_as(PHONE)
    return client


def account_id(db_session) -> int:
    return factories.ensure_login(db_session, PHONE).primary_account_id


def add_missed(db_session, account, n, *, days_ago=0, counterpart="+79031112233"):
    now = utcnow()
    db_session.add_all([UsageRecord(account_id=account, kind="call_missed", counterpart=counterpart,
                                    started_at=now - timedelta(days=days_ago, minutes=i)) for i in range(n)])
    db_session.commit()


def test_missed_calls_newest_first_paged_and_only_the_last_30_days(signed_in, db_session):
    account = account_id(db_session)
    add_missed(db_session, account, 55)
    add_missed(db_session, account, 1, days_ago=40, counterpart="+79990001122")
    other = factories.make_line(db_session, "+79035550000")
    add_missed(db_session, other.id, 1, counterpart="+79997776655")
    page = signed_in.get("/settings/missed-calls").text
    assert page.count("+7 903 111-22-33") == 50 and "+7 999" not in page
    more = signed_in.get("/settings/missed-calls?before=" + page.split("before=")[1].split('"')[0],
                         headers={"HX-Request": "true"})
    assert more.text.count("+7 903 111-22-33") == 5 and "<html" not in more.text


def test_the_missed_call_service_can_be_switched_on_from_the_page(signed_in, db_session):
    service = factories.make_service(db_session, code="who-called", name="Who called", monthly_fee=1500)
    db_session.commit()
    assert f"/services/{service.id}" in signed_in.get("/settings/missed-calls").text
    subscription = factories.make_subscription(db_session, factories.ensure_login(db_session, PHONE).primary_account,
                                               service)
    db_session.commit()
    assert f"/services/subscriptions/{subscription.id}/disconnect" in signed_in.get("/settings/missed-calls").text


def test_internet_settings_shown_and_sent_a_few_times_a_day(signed_in, db_session, app):
    app.config["INTERNET_SETTINGS_SMS_PER_DAY"] = 2
    assert "gdata" in signed_in.get("/settings/internet").text
    for _ in range(2):
        assert signed_in.post_form("/settings/internet").status_code == 303
    refused = signed_in.post_form("/settings/internet")
    assert refused.status_code == 429 and "Try again after" in refused.text
    sent = db_session.scalar(select(func.count()).select_from(SmsMessage)
                             .where(SmsMessage.purpose == "internet_settings", SmsMessage.to == PHONE))
    assert sent == 2
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "internet_settings_sent"))


def test_sending_the_settings_needs_csrf(signed_in):
    assert signed_in.post("/settings/internet").status_code == 400
