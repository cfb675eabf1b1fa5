"""Signed-in devices, language and time zone, the list of contracts."""
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from portal.domain.devices import describe_browser, place_of
from portal.models import Account, AuditEvent, HomeContract, Login, LoginAccount, LoginSession
from tests import factories

PHONE = "+79161234567"
ANDROID_CHROME = ("Mozilla/5.0 (Linux; Android 13; SM-A515F) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0.0.0 Mobile Safari/537.36")


@pytest.fixture
def signed_in(client, login_as):
    login_as(PHONE)
    return client


def login_of(db_session) -> Login:
    return factories.ensure_login(db_session, PHONE)


@pytest.mark.parametrize(("ua", "shown"), [
    (ANDROID_CHROME, "Chrome, Android"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 "
     "Safari/604.1", "Safari, iPhone"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0",
     "Edge, Windows"),
    ("Nokia6300/2.0 Profile/MIDP-2.0", "Nokia6300/2.0 Profile/MIDP-2.0"),
    ("", "?"),
])
def test_browsers_are_named_plainly(ua, shown):
    assert describe_browser(ua) == shown


def test_places_by_ip_range():
    places = [("10.0.0.0/8", "Local network"), ("95.165.0.0/16", "Moscow")]
    assert str(place_of("10.1.2.3", places)) == "Local network"
    assert place_of("95.165.4.4", places) == "Moscow"
    assert place_of("8.8.8.8", places) is None
    assert place_of("not an ip", places) is None


def test_the_devices_page_lists_sessions_and_signs_one_out(signed_in, db_session, app):
    login = login_of(db_session)
    other = LoginSession(token="phone-in-a-taxi", login_id=login.id, ip="10.0.0.7", user_agent=ANDROID_CHROME)
    db_session.add(other)
    db_session.commit()
    page = signed_in.get("/settings/sessions").text
    assert "Chrome, Android" in page and "this device" in page and "Local network" in page
    response = signed_in.post_form(f"/settings/sessions/{other.id}/end")
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(LoginSession, other.id).revoked_at is not None
    assert "phone-in-a-taxi" not in signed_in.get("/settings/sessions").text
    assert signed_in.get("/").status_code == 200  # this device stays signed in
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "session_ended"))


def test_sign_out_every_other_device(signed_in, db_session):
    login = login_of(db_session)
    db_session.add_all([LoginSession(token=f"old-{i}", login_id=login.id) for i in range(3)])
    db_session.commit()
    assert signed_in.post_form("/settings/sessions/end-others").status_code == 303
    alive = db_session.scalars(select(LoginSession).where(LoginSession.login_id == login.id,
                                                          LoginSession.revoked_at.is_(None))).all()
    assert len(alive) == 1 and signed_in.get("/").status_code == 200


def test_sessions_of_another_login_and_this_one_cannot_be_ended_here(signed_in, db_session, app):
    stranger = factories.ensure_login(db_session, "+79031112233")
    theirs = LoginSession(token="theirs", login_id=stranger.id)
    db_session.add(theirs)
    db_session.commit()
    assert signed_in.post_form(f"/settings/sessions/{theirs.id}/end").status_code == 404
    assert signed_in.post_form("/settings/sessions/999999/end").status_code == 404
    mine = db_session.scalar(select(LoginSession).where(LoginSession.login_id == login_of(db_session).id))
    assert signed_in.post_form(f"/settings/sessions/{mine.id}/end").status_code == 404
    db_session.expire_all()
    assert db_session.get(LoginSession, theirs.id).revoked_at is None


def test_ending_a_session_needs_csrf(signed_in, db_session):
    assert signed_in.post("/settings/sessions/end-others").status_code == 400


def test_language_and_time_zone_are_saved_and_used(signed_in, db_session):
    account = login_of(db_session).primary_account
    db_session.add(AuditEvent(action="tariff_changed", login_id=login_of(db_session).id, account_id=account.id,
                              created_at=datetime(2026, 11, 1, 9, 0)))
    db_session.commit()
    response = signed_in.post_form("/settings/preferences", {"language": "ru", "timezone": "Asia/Yekaterinburg"})
    assert response.status_code == 303
    login = db_session.get(Login, login_of(db_session).id)
    assert (login.language, login.timezone) == ("ru", "Asia/Yekaterinburg")
    page = signed_in.get("/archive?start=2026-11-01&end=2026-11-02").text
    assert 'lang="ru"' in page  # the saved language, although the tests default to English
    assert "14:00" in page  # 09:00 UTC in Yekaterinburg (UTC+5)
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "preferences_changed"))


def test_bad_preferences_are_refused(signed_in, db_session):
    response = signed_in.post_form("/settings/preferences", {"language": "de", "timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert db_session.get(Login, login_of(db_session).id).timezone is None


def test_the_footer_language_switch_is_remembered_for_the_login(signed_in, db_session, app):
    signed_in.post_form("/auth/language", {"lang": "ru"})
    assert db_session.get(Login, login_of(db_session).id).language == "ru"
    fresh = app.test_client()  # another browser, no language chosen there
    fresh.post_form("/auth/login", {"phone": PHONE, "password": factories.PASSWORD})
    assert 'lang="ru"' in fresh.get("/").text


def test_contracts_lists_lines_and_home_contracts_of_the_login(signed_in, db_session):
    login = login_of(db_session)
    customer = login.primary_account.customer
    home = Account(customer=customer, kind="home", region=customer.region, balance=0)
    db_session.add_all([home, HomeContract(account=home, contract_no="HC-777", address="Moscow, Tverskaya 1",
                                           connection_type="gpon")])
    db_session.flush()
    db_session.add(LoginAccount(login_id=login.id, account_id=home.id))
    db_session.commit()
    page = signed_in.get("/settings/contracts").text
    assert customer.contract_no in page and "HC-777" in page and "Tverskaya 1" in page and customer.name in page


def test_the_contracts_table_shows_short_dates(signed_in, db_session):
    from portal.formatting import date_short

    page = signed_in.get("/settings/contracts").text
    created = login_of(db_session).primary_account.created_at
    assert re.search(r"<td>\d\d/\d\d/\d{4}</td>", page) and date_short(created, "en", "Europe/Moscow") in page
