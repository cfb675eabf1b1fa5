"""Staff notices: support publishes, edits, posts updates and resolves; each step audited; errors on their field."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, ServiceNotice, ServiceNoticeUpdate, SmsMessage, utcnow
from tests import factories
from tests.web.admin.test_admin import staff_sign_in
from tests.web.admin.test_catalog import error_of

BUILDING = "Moscow, Tverskaya 1"


@pytest.fixture
def support(client, db_session):
    factories.make_staff(db_session, role="support")
    assert staff_sign_in(client).status_code == 303
    return client


def when(moment) -> str:
    return (moment + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")  # Moscow time, as staff type it


def notice_form(**changes):
    now = utcnow()
    return {"kind": "outage", "title": "No internet in the building", "text": "A cable is cut.",
            "scope": "address", "region": "", "connection_type": "", "address": BUILDING,
            "starts_at": when(now - timedelta(minutes=5)), "expected_end": when(now + timedelta(hours=2)), **changes}


def actions(db_session):
    return [e.action for e in db_session.scalars(select(AuditEvent).where(AuditEvent.action.like("notice%"))
                                                 .order_by(AuditEvent.id))]


def test_notices_need_a_staff_sign_in(client, login_as):
    assert client.get("/admin/notices").status_code == 302
    login_as("+79161234567")  # a customer is not staff
    assert client.get("/admin/notices").status_code in (302, 403, 404)


def test_support_publishes_updates_and_resolves_a_notice_and_each_step_is_audited(support, db_session):
    contract = factories.make_home_contract(db_session, "HC-100200", contact_phone="+79262223344")
    db_session.commit()
    assert "New notice" in support.get("/admin/notices").text
    assert BUILDING in support.get("/admin/notices/new").text  # suggested from the contracts' addresses
    response = support.post_form("/admin/notices/new", notice_form())
    assert response.status_code == 303
    notice = db_session.scalar(select(ServiceNotice))
    assert (notice.kind, notice.state, notice.scope, notice.scope_value) == \
        ("outage", "investigating", "address", BUILDING)
    assert notice.published_by_staff_id is not None
    page = support.get(response.location).text
    assert "No internet in the building" in page and "investigating" in page

    response = support.post_form(f"/admin/notices/{notice.id}/updates",
                                 {"update-text": "The crew is on site.", "update-state": "fixing"})
    assert response.status_code == 303
    response = support.post_form(f"/admin/notices/{notice.id}",
                                 notice_form(title="No internet or TV in the building"))
    assert response.status_code == 303
    response = support.post_form(f"/admin/notices/{notice.id}/resolve", {"resolve-text": "Fixed."})
    assert response.status_code == 303
    db_session.refresh(notice)
    assert (notice.state, notice.open, notice.title) == ("resolved", False, "No internet or TV in the building")
    assert [u.text for u in db_session.scalars(select(ServiceNoticeUpdate).order_by(ServiceNoticeUpdate.id))] == \
        ["", "The crew is on site.", "Fixed."]
    assert actions(db_session) == ["notice_published", "notice_updated", "notice_edited", "notice_updated"]
    assert contract.id  # nobody asked for SMS: none sent
    assert db_session.scalar(select(SmsMessage)) is None


@pytest.mark.parametrize("changes,field", [
    (dict(title=""), "title"),
    (dict(scope="region", region="Atlantis"), "region"),
    (dict(address="Moscow, Tverskaya 1, apt 5"), "address"),
    (dict(starts_at="tomorrow"), "starts_at"),
    (dict(expected_end="2020-01-01T10:00"), "expected_end"),
    (dict(kind="meteor"), "kind"),
])
def test_a_bad_notice_is_refused_next_to_its_field(support, db_session, changes, field):
    response = support.post_form("/admin/notices/new", notice_form(**changes))
    assert response.status_code == 422
    assert error_of(response.text, field), response.text
    assert db_session.scalar(select(ServiceNotice)) is None


def test_an_empty_update_is_refused_with_422_and_a_missing_notice_is_404(support, db_session):
    assert support.post_form("/admin/notices/new", notice_form()).status_code == 303
    notice = db_session.scalar(select(ServiceNotice))
    response = support.post_form(f"/admin/notices/{notice.id}/updates", {"update-text": "", "update-state": ""})
    assert response.status_code == 422 and error_of(response.text, "update-text")
    assert support.get("/admin/notices/999").status_code == 404
    assert support.post_form("/admin/notices/999/resolve", {}).status_code == 404


def test_a_post_without_the_token_is_refused(support, db_session):
    response = support.post("/admin/notices/new", data=notice_form())
    assert response.status_code == 400
    assert db_session.scalar(select(ServiceNotice)) is None


def test_the_update_form_offers_only_the_states_of_the_kind(support, db_session):
    assert support.post_form("/admin/notices/new", notice_form(kind="works")).status_code == 303
    notice = db_session.scalar(select(ServiceNotice))
    page = support.get(f"/admin/notices/{notice.id}").text
    states = re.findall(r'<option value="([a-z_]+)"', page.split('id="update-form"')[1].split("</form>")[0])
    assert states == ["scheduled", "in_progress", "done"]


def test_with_htmx_an_invalid_edit_answers_with_the_form_alone(support, db_session):
    assert support.post_form("/admin/notices/new", notice_form()).status_code == 303
    notice = db_session.scalar(select(ServiceNotice))
    response = support.post_form(f"/admin/notices/{notice.id}", notice_form(title=""), headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form id="notice-form"') and error_of(response.text, "title")
    db_session.refresh(notice)
    assert notice.title == "No internet in the building"
