"""The SIM-swap and port-out lock on the line's page: on with one POST, off a day later with an SMS to every number
of the login, a waiting release cancelled; another customer's line is 404; tokens and keys are required."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, LoginAccount, SimLock, SmsMessage, utcnow
from tests import factories
from tests.helpers import key_of

MSISDN, SECOND, STRANGER = "+79161234567", "+79031112233", "+79267776655"


@pytest.fixture
def owner(client, db_session, login_as):
    login = factories.ensure_login(db_session, MSISDN)
    second = factories.make_line(db_session, SECOND, customer=login.primary_account.customer)
    db_session.add(LoginAccount(login_id=login.id, account_id=second.id))
    db_session.commit()
    login_as(MSISDN)
    return login.primary_account


def line_page(client, account):
    return client.get(f"/numbers/{account.id}/")


def post(client, account, what, key=None):
    data = {"idempotency_key": key or key_of(line_page(client, account).text)}
    return client.post_form(f"/numbers/{account.id}/sim-lock/{what}", data)


def test_the_lock_is_switched_on_once_however_often_the_form_arrives(client, db_session, owner):
    page = line_page(client, owner).text
    assert "SIM-swap and port-out lock" in page and "Switch the lock on" in page
    key = key_of(page)
    first = post(client, owner, "on", key)
    assert first.status_code == 303 and first.location.endswith(f"/numbers/{owner.id}/#sim-lock")
    assert post(client, owner, "on", key).status_code == 303
    assert db_session.scalar(select(func.count()).where(AuditEvent.action == "sim_lock_on")) == 1
    page = line_page(client, owner).text
    assert "Switch the lock off" in page and 'id="sim-lock-state"><span class="badge">on' in page


def test_switching_off_waits_a_day_tells_every_number_and_can_be_cancelled(client, db_session, owner):
    post(client, owner, "on")
    response = post(client, owner, "off")
    assert response.status_code == 303
    page = client.get(response.location).text
    assert "The lock switches off at" in page and "Keep the lock on" in page and 'id="sim-lock-release"' in page
    recipients = sorted(db_session.scalars(select(SmsMessage.to).where(SmsMessage.purpose == "notice")))
    assert recipients == [SECOND, MSISDN]
    assert client.post(f"/numbers/{owner.id}/sim-lock/keep").status_code == 400  # no CSRF token
    kept = client.post_form(f"/numbers/{owner.id}/sim-lock/keep")
    assert kept.status_code == 303 and "The lock stays on." in client.get(kept.location).text
    assert db_session.scalar(select(SimLock.release_at)) is None


def test_the_release_takes_effect_on_its_own_once_its_moment_has_passed(client, db_session, owner):
    post(client, owner, "on")
    post(client, owner, "off")
    lock = db_session.get(SimLock, owner.id)
    assert lock.release_at - lock.release_requested_at == timedelta(hours=24)
    lock.release_at = utcnow() - timedelta(seconds=1)  # no job needed: the page reads the moment
    db_session.commit()
    assert "Switch the lock on" in line_page(client, owner).text


def test_another_customers_line_is_404_and_a_tokenless_post_is_refused(client, db_session, owner):
    stranger = factories.make_line(db_session, STRANGER)
    db_session.commit()
    assert client.get(f"/numbers/{stranger.id}/").status_code == 404
    for what in ("on", "off", "keep"):
        assert client.post_form(f"/numbers/{stranger.id}/sim-lock/{what}",
                                {"idempotency_key": "k" * 24}).status_code == 404
    assert client.post(f"/numbers/{owner.id}/sim-lock/on", data={"idempotency_key": "x" * 24}).status_code == 400
    assert db_session.scalar(select(func.count()).select_from(SimLock).where(SimLock.account_id == stranger.id)) == 0


def test_a_bad_key_or_switching_off_twice_is_said_on_the_page(client, db_session, owner):
    bad = client.post_form(f"/numbers/{owner.id}/sim-lock/on", {"idempotency_key": "short"})
    assert bad.status_code == 422 and "The form has expired" in bad.text
    refused = post(client, owner, "off", "z" * 24)
    assert refused.status_code == 422 and "The lock is already off." in refused.text


def test_the_customers_archive_lists_the_lock_switched_on(client, db_session, owner):
    post(client, owner, "on")
    assert "SIM-swap and port-out lock switched on" in client.get("/archive").text
