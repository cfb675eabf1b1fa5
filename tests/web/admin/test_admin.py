import pytest
from sqlalchemy import select

from portal.models import AuditEvent, LoginThrottle
from tests import factories
from tests.helpers import request_password


@pytest.fixture
def agent(db_session):
    return factories.make_staff(db_session)


def staff_sign_in(client, email="agent@example.com", password=factories.PASSWORD):
    return client.post_form("/admin/login", {"email": email, "password": password})


def test_admin_pages_need_a_staff_sign_in(client):
    for url in ("/admin/", "/admin/sms"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login" in response.location


def test_a_customer_session_does_not_open_the_admin(client, login_as):
    login_as("+79161234567")
    assert client.get("/admin/").status_code == 302


def test_staff_sign_in_and_out(client, db_session, agent):
    response = staff_sign_in(client)
    assert response.status_code == 303
    home = client.get("/admin/")
    assert home.status_code == 200 and "Agent" in home.text
    assert client.get("/").status_code == 302  # a staff session is not a customer one
    assert client.post_form("/admin/logout").status_code == 303
    assert client.get("/admin/").status_code == 302
    actions = [e.action for e in db_session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["staff_login", "staff_logout"]


def test_wrong_staff_credentials_get_one_message(client, agent):
    wrong = staff_sign_in(client, password="nope")
    unknown = staff_sign_in(client, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 422
    assert "Wrong e-mail or password." in wrong.text and "Wrong e-mail or password." in unknown.text


def test_staff_logins_lock_after_ten_failures(client, db_session, agent):
    for _ in range(10):
        staff_sign_in(client, password="nope")
    assert staff_sign_in(client).status_code == 429
    assert db_session.get(LoginThrottle, "staff:agent@example.com@127.0.0.0/24").failures == 10


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_STAFF_LOGIN": "2 per minute"}])
def test_staff_login_has_its_own_rate_limit(client, agent, config_overrides):
    staff_sign_in(client, password="nope")
    staff_sign_in(client, password="nope")
    assert staff_sign_in(client).status_code == 429
    assert client.post_form("/auth/login", {"phone": "+79161234567", "password": "x"}).status_code == 422


@pytest.mark.parametrize("query", ["8 916 123 45 67", "+79161234567", "petrov", "C-777777", "4567", "+7916"])
def test_search_customers_by_number_name_or_contract(client, db_session, agent, query):
    customer = factories.make_customer(db_session, name="Ivan Petrov", contract_no="C-777777")
    factories.make_line(db_session, "+79161234567", customer=customer)
    factories.make_line(db_session, "+79031112233")
    db_session.commit()
    staff_sign_in(client)
    page = client.get("/admin/", query_string={"q": query})
    assert "Ivan Petrov" in page.text and "+7 916 123-45-67" in page.text
    assert "+7 903 111-22-33" not in page.text


@pytest.mark.parametrize("query", ["ПЕТРОВ", "петров", "Пётр", "иван петров"])
def test_search_finds_cyrillic_names_in_any_case(client, db_session, agent, query):
    factories.make_line(db_session, "+79161234567", customer=factories.make_customer(db_session, name="Иван Петров"))
    factories.make_line(db_session, "+79031112233", customer=factories.make_customer(db_session, name="Анна Сидорова"))
    db_session.commit()
    staff_sign_in(client)
    page = client.get("/admin/", query_string={"q": query})
    assert "Иван Петров" in page.text and "Анна Сидорова" not in page.text


def test_a_renamed_customer_is_found_by_the_new_name(client, db_session, agent):
    customer = factories.make_customer(db_session, name="Иван Петров")
    db_session.commit()
    customer.name = "Иван Смирнов"
    db_session.commit()
    staff_sign_in(client)
    assert "Иван Смирнов" in client.get("/admin/", query_string={"q": "СМИРНОВ"}).text
    assert "Nobody found" in client.get("/admin/", query_string={"q": "петров"}).text


@pytest.mark.parametrize("query", ["HC-100200", "hc100200", " hc-100200 "])
def test_search_finds_a_home_contract_by_its_number(client, db_session, agent, query):
    for number, name in (("HC-100200", "Home Owner"), ("HC-100201", "Neighbour")):
        factories.make_home_contract(db_session, number, customer=factories.make_customer(db_session, name=name))
    db_session.commit()
    staff_sign_in(client)
    page = client.get("/admin/", query_string={"q": query})
    assert "Home Owner" in page.text and "HC-100200" in page.text and "Neighbour" not in page.text


def test_search_with_htmx_returns_the_results_fragment(client, db_session, agent):
    factories.make_line(db_session, "+79161234567")
    db_session.commit()
    staff_sign_in(client)
    response = client.get("/admin/?q=79161234567", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<section id="results"')


@pytest.mark.parametrize("query", ["916", "+7 9", "12"])
def test_too_few_digits_of_a_number_are_asked_for_more_not_answered_nobody(client, db_session, agent, query):
    factories.make_line(db_session, "+79161234567")
    db_session.commit()
    staff_sign_in(client)
    page = client.get("/admin/", query_string={"q": query})
    assert page.status_code == 422 and "at least 4 digits" in page.text and "Nobody found" not in page.text
    assert page.text.count("at least 4 digits") == 1  # next to the field only
    fragment = client.get("/admin/", query_string={"q": query}, headers={"HX-Request": "true"})
    assert fragment.status_code == 422 and fragment.text.lstrip().startswith('<section id="results"')
    assert "at least 4 digits" in fragment.text


def test_search_finds_nothing_politely(client, agent):
    staff_sign_in(client)
    assert "Nobody found" in client.get("/admin/?q=zzz").text


def test_the_outbox_never_shows_a_password(client, db_session, agent):
    factories.make_line(db_session, "+79161234567")
    db_session.commit()
    request_password(client)
    from tests.helpers import sent_password

    password = sent_password(db_session)
    staff_sign_in(client)
    page = client.get("/admin/sms")
    assert "+7 916 123-45-67" in page.text and "password" in page.text and "sent" in page.text
    assert password not in page.text
    assert "hidden: contains a password" in page.text


def test_dev_pages_are_absent_outside_debug_and_tests(database_url):
    from portal import create_app
    from tests.conftest import base_config

    app = create_app({**base_config(database_url), "TESTING": False})
    assert app.config["PAYMENT_PROVIDER"] == ""  # no provider: card top-ups say they are unavailable
    with app.test_client() as client:
        assert client.get("/dev/sms").status_code == 404
        assert client.get("/dev/pay/dev_x").status_code == 404


def test_an_unknown_staff_e_mail_costs_the_same_hash_check(client, agent, monkeypatch):
    import werkzeug.security

    checked = []
    real = werkzeug.security.check_password_hash
    monkeypatch.setattr("portal.domain.passwords.check_password_hash",
                        lambda hashed, secret: checked.append(hashed) or real(hashed, secret))
    assert staff_sign_in(client, email="nobody@example.com").status_code == 422
    assert len(checked) == 1
