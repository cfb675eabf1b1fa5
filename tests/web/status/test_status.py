"""Customers see the notices affecting the account in focus; /status is public, cacheable and personal-data free."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain import notices
from portal.domain.audit import Actor
from portal.models import AlertSettings, SmsMessage, utcnow
from tests import factories
from tests.web.admin.test_admin import staff_sign_in

BUILDING = "Moscow, Tverskaya 1"
STAFF = Actor()


def publish(db_session, **changes):
    now = utcnow()
    base = dict(kind="outage", title="No internet", text="", scope="address", scope_value=BUILDING,
                starts_at=now - timedelta(minutes=5), expected_end=now + timedelta(hours=2))
    return notices.create_notice(db_session, values=notices.NoticeValues(**{**base, **changes}),
                                 regions=["Moscow"], connection_types=("gpon", "fttb"), actor=STAFF, now=now)


@pytest.fixture
def world(db_session):
    """A home contract in the building (HC-100200), a mobile line of another customer, and notices."""
    contract = factories.make_home_contract(db_session, "HC-100200", contact_phone="+79262223344")
    factories.make_login(db_session, contract)
    line = factories.ensure_login(db_session, "+79031112233").primary_account
    db_session.commit()
    return dict(contract=contract, line=line,
                building=publish(db_session, title="Cable cut in the building"),
                elsewhere=publish(db_session, title="Lift shaft works next door",
                                  scope_value="Moscow, Tverskaya 3"),
                mobile=publish(db_session, title="Calls drop in the north", scope="mobile", scope_value=""))


def sign_in(client, who: str):
    assert client.post_form("/auth/login", {"phone": who, "password": factories.PASSWORD}).status_code == 303


def test_the_home_dashboard_shows_the_building_notice_and_not_the_others(client, world):
    sign_in(client, "HC-100200")
    page = client.get("/").text
    assert "Cable cut in the building" in page and f"/status/{world['building'].id}" in page
    assert "investigating" in page and "expected end" in page
    assert "Lift shaft works next door" not in page and "Calls drop in the north" not in page


def test_a_mobile_dashboard_shows_the_mobile_notice_only(client, world):
    sign_in(client, "+79031112233")
    page = client.get("/").text
    assert "Calls drop in the north" in page
    assert "Cable cut in the building" not in page and "Lift shaft" not in page


def test_a_resolved_notice_leaves_the_dashboard(client, db_session, world):
    notices.resolve_notice(db_session, notice_id=world["building"].id, text="", actor=STAFF, now=utcnow())
    sign_in(client, "HC-100200")
    assert "Cable cut in the building" not in client.get("/").text


def test_the_dashboard_stays_within_the_query_budget(client, world, count_queries):
    sign_in(client, "HC-100200")
    with count_queries() as statements:
        assert client.get("/").status_code == 200
    assert len(statements) <= 10, statements


def test_the_status_page_is_public_cacheable_and_has_no_personal_data(client, db_session, world):
    notices.resolve_notice(db_session, notice_id=world["mobile"].id, text="All calls go through.", actor=STAFF,
                           now=utcnow())
    response = client.get("/status")
    assert response.status_code == 200
    page = response.text
    current, recent = page.split('id="recent"')
    assert "Cable cut in the building" in current and "Lift shaft works next door" in current
    assert "Calls drop in the north" in recent
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "Set-Cookie" not in response.headers and "csrf" not in page.lower()
    for personal in ("HC-100200", "+7926", "79262223344", "Customer ", "Tverskaya 1, "):
        assert personal not in page
    again = client.get("/status", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_the_etag_holds_through_compression_and_changes_with_the_page(client, db_session, world):
    first = client.get("/status", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    assert client.get("/status", headers={"Accept-Encoding": "gzip",
                                          "If-None-Match": first.headers["ETag"]}).status_code == 304
    notices.post_update(db_session, notice_id=world["building"].id, text="", state="fixing", actor=STAFF,
                        now=utcnow())
    assert client.get("/status", headers={"Accept-Encoding": "gzip",
                                          "If-None-Match": first.headers["ETag"]}).status_code == 200


def test_the_status_page_speaks_russian_and_english_and_a_signed_in_reader_gets_the_same_page(client, world):
    russian, english = client.get("/status?lang=ru").text, client.get("/status?lang=en").text
    assert "Состояние сервисов" in russian and "Service status" in english
    anonymous = client.get("/status?lang=en")
    sign_in(client, "HC-100200")
    signed_in = client.get("/status?lang=en")
    assert signed_in.headers["ETag"] == anonymous.headers["ETag"]
    assert "HC-100200" not in signed_in.text


def test_a_reader_who_chose_another_language_is_sent_to_its_page(client, world):
    assert client.get("/status").status_code == 200  # the default language: no redirect
    assert client.get("/status").headers["Vary"].count("Cookie") == 1
    client.post_form("/auth/language", {"lang": "ru"})  # the tests' default is English
    chosen = client.get("/status")
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith("/status?lang=ru")
    assert "private" in chosen.headers["Cache-Control"]
    notice = client.get(f"/status/{world['building'].id}")
    assert notice.headers["Location"].endswith(f"/status/{world['building'].id}?lang=ru")
    assert client.get("/status?lang=en").status_code == 200  # a link to another language is followed


def test_a_notice_page_shows_its_updates_and_an_unknown_one_is_404(client, db_session, world):
    notices.post_update(db_session, notice_id=world["building"].id, text="The crew is on site.", state="fixing",
                        actor=STAFF, now=utcnow())
    response = client.get(f"/status/{world['building'].id}")
    assert response.status_code == 200 and "The crew is on site." in response.text
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert client.get("/status/9999").status_code == 404


def test_the_alerts_page_has_the_outages_switch_off_by_default(client, db_session, world):
    sign_in(client, "HC-100200")
    page = client.get("/settings/alerts").text
    assert 'id="on_outages"' in page and '<input checked id="on_outages"' not in page
    response = client.post_form("/settings/alerts", {"on_payment": "y", "on_outages": "y"})
    assert response.status_code == 303
    assert db_session.scalar(select(AlertSettings.on_outages)) is True


def test_staff_publishing_sends_the_opted_in_customer_one_sms_at_the_start_and_one_at_the_end(client, db_session,
                                                                                             app):
    contract = factories.make_home_contract(db_session, "HC-100200", contact_phone="+79262223344")
    other = factories.make_home_contract(db_session, "HC-100201", contact_phone="+79262223355")
    other.home_contract.address = "Moscow, Tverskaya 3"
    db_session.add_all([AlertSettings(account_id=contract.id, on_outages=True),
                        AlertSettings(account_id=other.id, on_outages=True)])
    factories.make_staff(db_session)
    assert staff_sign_in(client).status_code == 303
    now = utcnow() + timedelta(hours=3)
    form = {"kind": "outage", "title": "Cable cut", "text": "", "scope": "address", "address": BUILDING,
            "connection_type": "", "region": "", "starts_at": now.strftime("%Y-%m-%dT%H:%M"), "expected_end": ""}
    assert client.post_form("/admin/notices/new", form).status_code == 303
    assert client.post_form("/admin/notices/new", form).status_code == 303  # a second notice: its own SMS
    first = db_session.scalars(select(SmsMessage.to)).all()
    assert first == ["+79262223344", "+79262223344"]
    notice_id = notices.staff_list(db_session)[0].id
    assert client.post_form(f"/admin/notices/{notice_id}/updates",
                            {"update-text": "Still on it", "update-state": "fixing"}).status_code == 303
    assert client.post_form(f"/admin/notices/{notice_id}/resolve", {"resolve-text": ""}).status_code == 303
    texts = db_session.scalars(select(SmsMessage.text).order_by(SmsMessage.id)).all()
    assert len(texts) == 3 and "over" in texts[-1]
