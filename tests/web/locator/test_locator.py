"""The family locator's pages: asking, the code, locating (the place, accuracy, time and a geo: link), removing; the
holder's agree, refuse, revoke and lookups; the owner's child-line mark; other customers' objects are 404; every
POST needs its CSRF token; errors sit next to their field with 422."""
import re

import pytest
from sqlalchemy import func, select

from portal.domain import locator
from portal.models import AuditEvent, Line, LocatorConsent, LocatorLookup, LoginAccount, SmsMessage
from tests import factories
from tests.unit.test_locator_network import Gateway
from tests.web.admin.test_admin import staff_sign_in

SEEKER, TARGET, CHILD = "+79161234567", "+79162223344", "+79161234568"


@pytest.fixture
def service(db_session):
    service = factories.make_service(db_session, code=locator.SERVICE, name="Где мои близкие", name_en="Family locator",
                                     category="security")
    db_session.commit()
    return service


@pytest.fixture
def seeker(client, db_session, login_as, service):
    login = factories.ensure_login(db_session, SEEKER)
    factories.make_subscription(db_session, login.primary_account, service)
    factories.ensure_login(db_session, TARGET)
    db_session.commit()
    login_as(SEEKER)
    return client


def ask(client, number=TARGET, name="Mum"):
    page = client.get("/locator/").text
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    return client.post_form("/locator/ask", {"msisdn": number, "name": name, "idempotency_key": key})


def code_sent(db_session, to=TARGET):
    text = db_session.scalar(select(SmsMessage.text).where(SmsMessage.to == to, SmsMessage.purpose == "locator_code")
                             .order_by(SmsMessage.id.desc()))
    return re.search(r"\b(\d{6})\b", text).group(1)


def consent_id(db_session):
    return db_session.scalar(select(LocatorConsent.id).order_by(LocatorConsent.id.desc()))


def locate(client, consent):
    page = client.get("/locator/").text
    form = page[page.index(f"/locator/{consent}/locate"):]
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', form).group(1)
    return client.post_form(f"/locator/{consent}/locate", {"idempotency_key": key}), key


def granted(client, db_session):
    assert ask(client).status_code == 303
    consent = consent_id(db_session)
    assert client.post_form(f"/locator/{consent}/code", {"code": code_sent(db_session)}).status_code == 303
    return consent


def test_without_the_service_the_page_offers_to_connect_it(client, db_session, login_as, service):
    login_as(SEEKER)
    page = client.get("/locator/").text
    assert f"/services/{service.id}" in page and "ask-form" not in page
    assert ask_without_form(client).status_code == 422


def ask_without_form(client):
    return client.post_form("/locator/ask", {"msisdn": TARGET, "name": "Mum", "idempotency_key": "k" * 24})


def test_the_services_list_links_to_the_locator_when_connected(seeker):
    assert 'href="/locator/"' in seeker.get("/services/").text


def test_ask_confirm_locate_shows_place_accuracy_time_and_a_geo_link(seeker, db_session):
    response = ask(seeker)
    assert response.status_code == 303
    assert "If the number can be located, we have sent it an SMS" in seeker.get("/locator/").text
    consent = consent_id(db_session)
    response = seeker.post_form(f"/locator/{consent}/code", {"code": code_sent(db_session)})
    assert response.status_code == 303
    response, _key = locate(seeker, consent)
    assert response.status_code == 303
    page = seeker.get("/locator/").text
    lookup = db_session.scalar(select(LocatorLookup))
    assert lookup.state == "found" and lookup.place in page and f"± {lookup.accuracy_m} m" in page
    assert f'href="geo:{lookup.lat:.5f},{lookup.lon:.5f};u={lookup.accuracy_m}"' in page
    assert "+7 916 ***-**-44" in page and "locator_lookup" in set(db_session.scalars(select(AuditEvent.action)))


def test_the_same_locate_form_twice_makes_one_lookup(seeker, db_session):
    consent = granted(seeker, db_session)
    _response, key = locate(seeker, consent)
    assert seeker.post_form(f"/locator/{consent}/locate", {"idempotency_key": key}).status_code == 303
    assert db_session.scalar(select(func.count()).select_from(LocatorLookup)) == 1


def test_errors_sit_next_to_their_field_with_422(seeker, db_session):
    response = ask(seeker, number="12", name="")
    assert response.status_code == 422 and 'id="msisdn-error"' in response.text and 'id="name-error"' in response.text
    response = ask(seeker, number=SEEKER)
    assert response.status_code == 422 and "This is the number you are using" in response.text
    ask(seeker)
    consent = consent_id(db_session)
    wrong = seeker.post_form(f"/locator/{consent}/code", {"code": "000000"})
    assert wrong.status_code == 422 and 'id="code-error"' in wrong.text and "Wrong code" in wrong.text


def test_the_page_shown_again_after_a_refused_ask_can_still_locate(seeker, db_session):
    """The walk found it: the people's forms on a 422 page had an empty key, so "Locate now" answered 400."""
    consent = granted(seeker, db_session)
    refused = ask(seeker, number="12")
    assert refused.status_code == 422
    form = refused.text[refused.text.index(f"/locator/{consent}/locate"):]
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]*)"', form).group(1)
    assert key
    assert seeker.post_form(f"/locator/{consent}/locate", {"idempotency_key": key}).status_code == 303
    assert db_session.scalar(select(func.count()).select_from(LocatorLookup)) == 1


def test_locating_someone_who_has_not_agreed_is_refused_on_their_row(seeker, db_session):
    ask(seeker)
    consent = consent_id(db_session)
    response = seeker.post_form(f"/locator/{consent}/locate", {"idempotency_key": "k" * 24})
    assert response.status_code == 422 and "has not agreed to be located" in response.text


def test_every_post_needs_the_csrf_token(seeker, db_session):
    ask(seeker)
    consent = consent_id(db_session)
    for url in ("/locator/ask", f"/locator/{consent}/code", f"/locator/{consent}/locate", f"/locator/{consent}/remove",
                f"/locator/me/{consent}/agree", f"/locator/me/{consent}/refuse", f"/locator/me/{consent}/revoke"):
        assert seeker.post(url, data={"code": "1", "msisdn": TARGET, "name": "x"}).status_code == 400, url


def test_other_customers_consents_are_404(app, seeker, db_session):
    consent = granted(seeker, db_session)
    other = app.test_client()
    factories.ensure_login(db_session, "+79035550000")
    other.post_form("/auth/login", {"phone": "+79035550000", "password": factories.PASSWORD})
    for url, data in ((f"/locator/{consent}/code", {"code": "123456"}), (f"/locator/{consent}/locate",
                      {"idempotency_key": "k" * 24}), (f"/locator/{consent}/remove", {}),
                      (f"/locator/me/{consent}/agree", {}), (f"/locator/me/{consent}/revoke", {})):
        assert other.post_form(url, data).status_code == 404, url
    # The seeker is not the holder: the holder's buttons are 404 for them too.
    assert seeker.post_form(f"/locator/me/{consent}/revoke").status_code == 404
    assert db_session.get(LocatorConsent, consent).state == "granted"


def test_the_holder_agrees_sees_lookups_and_revokes_then_locating_is_refused(app, seeker, db_session):
    ask(seeker)
    consent = consent_id(db_session)
    holder = app.test_client()
    holder.post_form("/auth/login", {"phone": TARGET, "password": factories.PASSWORD})
    page = holder.get("/locator/me").text
    assert "+7 916 123-45-67" in page and "waiting for consent" in page
    assert holder.post_form(f"/locator/me/{consent}/agree").status_code == 303
    locate(seeker, consent)
    page = holder.get("/locator/me").text
    assert 'id="lookups"' in page and "agreed" in page
    assert holder.post_form(f"/locator/me/{consent}/revoke").status_code == 303
    assert "consent withdrawn" in holder.get("/locator/me").text
    assert f"/locator/{consent}/locate" not in seeker.get("/locator/").text  # no "Locate now" any more
    refused = seeker.post_form(f"/locator/{consent}/locate", {"idempotency_key": "r" * 24})
    assert refused.status_code == 422 and "withdrawn consent" in refused.text
    again = holder.post_form(f"/locator/me/{consent}/revoke")
    assert again.status_code == 422 and "already ended" in again.text


def test_the_holder_may_refuse(app, seeker, db_session):
    ask(seeker)
    consent = consent_id(db_session)
    holder = app.test_client()
    holder.post_form("/auth/login", {"phone": TARGET, "password": factories.PASSWORD})
    assert holder.post_form(f"/locator/me/{consent}/refuse").status_code == 303
    assert "refused" in seeker.get("/locator/").text


def test_removing_takes_the_person_off_the_list(seeker, db_session):
    ask(seeker)
    consent = consent_id(db_session)
    assert seeker.post_form(f"/locator/{consent}/remove").status_code == 303
    assert f"person-{consent}" not in seeker.get("/locator/").text


def test_the_owner_marks_a_child_line_and_then_consents_for_it(seeker, db_session):
    owner = factories.ensure_login(db_session, SEEKER)
    child = factories.make_line(db_session, CHILD, customer=owner.primary_account.customer)
    db_session.add(LoginAccount(login_id=owner.id, account_id=child.id))
    db_session.commit()
    assert 'id="children"' in seeker.get("/locator/").text
    assert seeker.post_form(f"/locator/child/{child.id}", {"on": "1"}).status_code == 303
    assert db_session.get(Line, child.id).used_by_child
    assert ask(seeker, number=CHILD, name="Kid").status_code == 303
    assert "a child’s line of your personal account" in seeker.get("/locator/").text
    assert db_session.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.to == CHILD)) == 0
    # A line the login does not manage cannot be marked.
    stranger = factories.make_line(db_session, "+79035550001")
    db_session.commit()
    assert seeker.post_form(f"/locator/child/{stranger.id}", {"on": "1"}).status_code == 404


def test_staff_see_the_locator_section_read_only(app, seeker, db_session):
    consent = granted(seeker, db_session)
    locate(seeker, consent)
    staff = app.test_client()
    factories.make_staff(db_session)
    staff_sign_in(staff)
    customer_id = factories.ensure_login(db_session, SEEKER).primary_account.customer_id
    page = staff.get(f"/admin/customers/{customer_id}").text
    section = page[page.index('id="locator"'):]
    assert "+7 916 ***-**-44" in section and "1 lookup" in section and "<form" not in section.split("</section>")[0]
    holder_customer = factories.ensure_login(db_session, TARGET).primary_account.customer_id
    page = staff.get(f"/admin/customers/{holder_customer}").text
    assert 'Seen by <span class="phone">+7 916 ***-**-67</span>' in page[page.index('id="locator"'):]


@pytest.fixture
def gateway(request):
    fake = Gateway(**getattr(request, "param", {}))
    yield fake
    fake.release.set()
    fake.stop()


@pytest.fixture
def config_overrides(request):
    if "gateway" in request.fixturenames:
        return {"LOCATOR_BACKEND": "http", "LOCATOR_URL": request.getfixturevalue("gateway").url,
                "LOCATOR_TIMEOUT": 1}
    return {}


@pytest.mark.parametrize("gateway", [{"status": 503}, {"delay": 5}], indirect=True)
def test_a_gateway_down_or_slow_is_said_on_the_row_and_the_lookup_is_failed(seeker, db_session, gateway):
    consent = granted(seeker, db_session)
    response, _key = locate(seeker, consent)
    assert response.status_code == 303
    assert "the network did not say where the phone is" in seeker.get("/locator/").text
    assert db_session.scalar(select(LocatorLookup.state)) == "failed"
    assert db_session.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.purpose == "alert")) == 0


def test_through_the_gateway_a_double_submission_asks_it_once(seeker, db_session, gateway):
    consent = granted(seeker, db_session)
    _response, key = locate(seeker, consent)
    seeker.post_form(f"/locator/{consent}/locate", {"idempotency_key": key})
    assert len(gateway.requests) == 1 and db_session.scalar(select(LocatorLookup.place)) == "Тверская улица"


def test_the_pages_cost_a_bounded_number_of_queries(app, seeker, db_session, count_queries):
    for _n in range(2):  # a number gets 3 codes a day
        consent = granted(seeker, db_session)
        locate(seeker, consent)
        seeker.post_form(f"/locator/{consent}/remove")
    granted(seeker, db_session)
    for url in ("/locator/", "/locator/me"):
        with count_queries() as statements:
            assert seeker.get(url).status_code == 200
        assert len(statements) <= 10, (url, statements)
