from tests import factories


def test_the_dashboard_shows_real_data_of_the_line(client, db_session, login_as):
    tariff = factories.make_tariff(db_session, name="Smart Plus")
    customer = factories.make_customer(db_session, name="Olga Smirnova")
    factories.make_line(db_session, "+79161234567", customer=customer, tariff=tariff, balance=123456)
    db_session.commit()
    login_as("+79161234567")
    page = client.get("/").text.replace("\xa0", " ")
    for shown in ("+7 916 123-45-67", "Olga Smirnova", "Smart Plus", "Active"):
        assert shown in page
    assert "1,234.56" in page


def test_a_blocked_line_says_so(client, db_session, login_as):
    factories.make_line(db_session, "+79161234567", status="blocked_lost")
    db_session.commit()
    login_as("+79161234567")
    assert "Blocked: lost or stolen" in client.get("/").text


def test_a_negative_balance_is_marked(client, db_session, login_as):
    account = factories.make_line(db_session, "+79161234567", balance=0)
    account.balance = -5000
    db_session.commit()
    login_as("+79161234567")
    assert 'class="money negative"' in client.get("/").text


def test_the_summary_refreshes_alone_with_htmx(client, login_as):
    login_as("+79161234567")
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<section id="summary"')
    assert "HX-Request" in response.headers["Vary"]
    boosted = client.get("/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.text


def test_the_dashboard_runs_few_queries(client, login_as, count_queries):
    login_as("+79161234567")
    with count_queries() as statements:
        assert client.get("/").status_code == 200
    assert len(statements) <= 10, statements
