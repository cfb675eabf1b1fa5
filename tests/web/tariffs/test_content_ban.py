"""The content-charge ban through the pages (the subscriptions page's switch and the list of refused attempts) and
the content gateway's endpoint (its key, its networks, its answers)."""
import pytest
from sqlalchemy import func, select

from portal.models import ContentBan, ContentRefusal, Subscription
from tests import factories

MSISDN = "+79161234567"
KEY = "gateway-key-0123456789"
GATEWAY = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def config_overrides():
    return {"CONTENT_GATEWAY_TOKEN": KEY}


@pytest.fixture
def line(db_session, login_as):
    account = factories.make_line(db_session, MSISDN, balance=100000)
    factories.make_service(db_session, code="music-stream", name="Музыка", name_en="Music", category="subscription",
                           monthly_fee=19900)
    db_session.commit()
    login_as(MSISDN)
    return account


def attempt(client, request_id="r-1", headers=GATEWAY, **changes):
    body = {"msisdn": "8 916 123-45-67", "service": "music-stream", "provider": "Acme Media",
            "request_id": request_id, **changes}
    return client.post("/gateway/content/subscriptions", json=body, headers=headers)


def test_the_switch_is_off_by_default_and_goes_on_and_off(client, db_session, line):
    page = client.get("/services/subscriptions").text
    assert "Ban on paid subscriptions from content providers" in page and "Switch the ban on" in page
    response = client.post_form("/services/subscriptions/content-ban", {"on": "1"})
    assert response.status_code == 303 and response.location.endswith("/services/subscriptions#content-ban")
    assert db_session.get(ContentBan, line.id) is not None
    page = client.get("/services/subscriptions").text
    assert "can no longer subscribe this number" in page and "Switch the ban off" in page
    client.post_form("/services/subscriptions/content-ban", {"on": "0"})
    assert db_session.get(ContentBan, line.id) is None


def test_the_switch_needs_its_token_and_a_clear_value(client, db_session, line):
    assert client.post("/services/subscriptions/content-ban", data={"on": "1"}).status_code == 400
    assert client.post_form("/services/subscriptions/content-ban", {"on": "maybe"}).status_code == 400
    assert db_session.scalar(select(func.count()).select_from(ContentBan)) == 0


def test_a_home_contract_has_no_switch(client, db_session, line):
    home = factories.make_home_contract(db_session, "HC-100200")
    factories.make_login(db_session, home)
    db_session.commit()
    client.post_form("/auth/logout")
    client.post_form("/auth/login", {"phone": "HC-100200", "password": factories.PASSWORD})
    assert "content-ban" not in client.get("/services/subscriptions").text
    assert client.post_form("/services/subscriptions/content-ban", {"on": "1"}).status_code == 404


def test_the_gateway_subscribes_once_without_the_ban(client, db_session, line):
    assert attempt(client).status_code == 201
    again = attempt(client)
    assert again.status_code == 200 and again.json == {"status": "already"}
    assert db_session.scalar(select(func.count()).select_from(Subscription)) == 1
    assert "Music" in client.get("/services/subscriptions").text


def test_with_the_ban_the_gateway_is_refused_and_the_customer_sees_it(client, db_session, line):
    client.post_form("/services/subscriptions/content-ban", {"on": "1"})
    for _ in range(2):
        refused = attempt(client)
        assert refused.status_code == 403 and refused.json == {"status": "refused", "reason": "content_ban"}
    assert db_session.scalar(select(func.count()).select_from(ContentRefusal)) == 1
    listed = client.get("/services/subscriptions").text
    assert 'id="content-refusals"' in listed and "Acme Media" in listed and "Music" in listed
    assert db_session.scalar(select(func.count()).select_from(Subscription)) == 0


@pytest.mark.parametrize(("headers", "status"), [({}, 403), ({"Authorization": "Bearer wrong"}, 403),
                                                 ({"Authorization": f"Basic {KEY}"}, 403)])
def test_the_gateway_needs_its_key(client, db_session, line, headers, status):
    assert attempt(client, headers=headers).status_code == status
    assert db_session.scalar(select(func.count()).select_from(Subscription)) == 0


def test_the_gateway_from_another_network_is_refused(app, client, db_session, line):
    app.config["CONTENT_GATEWAY_NETS"] = ("10.20.0.0/16",)
    assert attempt(client).status_code == 403
    assert client.post("/gateway/content/subscriptions", json={}, headers=GATEWAY,
                       environ_base={"REMOTE_ADDR": "10.20.1.2"}).status_code == 400


@pytest.mark.parametrize("changes", [{"msisdn": "12"}, {"service": ""}, {"request_id": None},
                                     {"provider": "x" * 61}])
def test_a_malformed_call_is_a_400(client, db_session, line, changes):
    assert attempt(client, **changes).status_code == 400


def test_an_unknown_number_or_a_service_that_is_not_paid_content_is_a_404(client, db_session, line):
    factories.make_service(db_session, code="who-called", category="calls")
    db_session.commit()
    assert attempt(client, msisdn="+79990000000").status_code == 404
    assert attempt(client, service="who-called", request_id="r-2").status_code == 404


def test_without_a_configured_key_the_endpoint_is_not_there(app, client, line):
    app.config["CONTENT_GATEWAY_TOKEN"] = None
    assert attempt(client).status_code == 404


def test_staff_see_the_ban_and_the_refusals_on_the_customer_page(app, client, db_session, line):
    client.post_form("/services/subscriptions/content-ban", {"on": "1"})
    attempt(client)
    factories.make_staff(db_session)
    staff = app.test_client()
    staff.post_form("/admin/login", {"email": "agent@example.com", "password": factories.PASSWORD})
    page = staff.get(f"/admin/customers/{line.customer_id}").text
    assert "Ban on providers’ subscriptions: on since" in page and "1 attempts refused" in page
