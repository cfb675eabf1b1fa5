import pytest
from sqlalchemy import select

from portal.models import BonusAccount
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


@pytest.mark.parametrize("block", ["summary", "allowances", "services", "subscriptions"])
def test_each_block_refreshes_alone_with_htmx(client, login_as, block):
    login_as("+79161234567")
    page = client.get("/").text
    # No visible "Refresh" link: the block reloads itself when the tab comes back (static/portal.js).
    assert f'hx-get="/?block={block}" hx-trigger="portal:back from:body"' in page
    assert 'class="refresh"' not in page and ">Refresh<" not in page
    response = client.get(f"/?block={block}", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith(f'<section id="{block}"')
    assert "HX-Request" in response.headers["Vary"]
    without_js = client.get(f"/?block={block}")
    assert "<html" in without_js.text
    boosted = client.get(f"/?block={block}", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.text


def test_an_unknown_block_gives_the_page(client, login_as):
    login_as("+79161234567")
    assert "<html" in client.get("/?block=../../etc", headers={"HX-Request": "true"}).text


@pytest.fixture
def busy_line(db_session):
    tariff = factories.make_tariff(db_session, monthly_fee=50000)
    account = factories.make_line(db_session, "+79161234567", tariff=tariff, balance=100000)
    factories.make_allowance(db_session, account, minutes_total=500, minutes_left=120, data_mb_total=15360,
                             data_mb_left=2560, sms_total=100, sms_left=100, mms_total=0, mms_left=0)
    forwarding = factories.make_service(db_session, name="Call forwarding", monthly_fee=0)
    filter_ = factories.make_service(db_session, name="Spam filter", category="security", monthly_fee=3000)
    cinema = factories.make_service(db_session, name="Online cinema", category="subscription", monthly_fee=29900)
    old = factories.make_service(db_session, name="Old horoscope", category="entertainment")
    for service in (forwarding, filter_, cinema):
        factories.make_subscription(db_session, account, service)
    factories.make_subscription(db_session, account, old, status="ended")
    db_session.add(BonusAccount(account_id=account.id, points=1250))
    db_session.commit()
    return account


def test_the_allowances_show_what_is_left_with_a_bar(client, busy_line, login_as):
    login_as("+79161234567")
    html = client.get("/?block=allowances", headers={"HX-Request": "true"}).text
    assert "120 min of 500 min" in html
    assert "2.5 GB of 15 GB" in html
    assert "100 of 100" in html
    assert '<meter min="0" max="500"' in html and 'value="120"' in html
    assert "MMS" not in html  # a package without MMS shows no MMS bar


def test_services_and_subscriptions_are_listed_apart_with_fees(client, busy_line, login_as):
    login_as("+79161234567")
    page = client.get("/").text
    services = page.split('id="services"')[1].split("</section>")[0]
    subscriptions = page.split('id="subscriptions"')[1].split("</section>")[0]
    assert "Call forwarding" in services and "free" in services
    assert "Spam filter" in services and "30.00" in services
    assert "Online cinema" not in services and "Online cinema" in subscriptions and "299.00" in subscriptions
    assert "Old horoscope" not in page


def test_a_connected_service_with_a_page_of_its_own_links_there(client, db_session, busy_line, login_as):
    blacklist = factories.make_service(db_session, code="blacklist", name="Blacklist", category="security")
    factories.make_subscription(db_session, busy_line, blacklist)
    db_session.commit()
    login_as("+79161234567")
    services = client.get("/").text.split('id="services"')[1].split("</section>")[0]
    assert '<a href="/settings/blacklist">Blacklist</a>' in services
    assert "<span>Spam filter</span>" in services  # no page of its own: plain text
    catalog = client.get("/services/").text
    row = catalog[catalog.index(f'id="service-{blacklist.id}"'):]
    assert 'href="/settings/blacklist">Open</a>' in row.split("</li>")[0]


def test_bonus_points_and_no_warning_when_the_balance_covers_the_charge(client, busy_line, login_as):
    login_as("+79161234567")
    page = client.get("/").text
    assert "1,250" in page
    assert 'class="warning"' not in page


def test_a_low_balance_warns_with_the_next_charge(client, db_session, busy_line, login_as):
    busy_line.balance = 50000  # the next charge is 500 + 30 + 299 roubles
    db_session.commit()
    login_as("+79161234567")
    page = client.get("/").text.replace("\xa0", " ")
    assert 'class="warning"' in page and "829.00" in page


def test_no_package_is_said_plainly(client, login_as):
    login_as("+79161234567")
    assert "paid as you use them" in client.get("/").text


def test_the_dashboard_runs_few_queries(client, busy_line, login_as, count_queries):
    login_as("+79161234567")
    with count_queries() as statements:
        assert client.get("/").status_code == 200
    assert len(statements) <= 10, statements


def test_quick_actions_lead_to_top_up_promised_payment_call_details_and_services(client, db_session, login_as):
    factories.make_line(db_session, "+79161234567")
    db_session.commit()
    login_as("+79161234567")
    page = client.get("/").text
    quick = page[page.index('<nav class="quick"'):]
    quick = quick[:quick.index("</nav>")]
    for href in ('href="/payments/topup"', 'href="/payments/promised"', 'href="/numbers/details"', 'href="/services/"'):
        assert href in quick


def test_the_forecast_says_how_many_days_the_balance_lasts(client, db_session, login_as):
    from datetime import timedelta

    from portal.models import LedgerEntry, utcnow

    tariff = factories.make_tariff(db_session, monthly_fee=0)
    account = factories.make_line(db_session, "+79161234567", tariff=tariff, balance=0)
    # 300 ₽ spent on calls in the last 30 days: 10 ₽ a day; 100 ₽ on the balance lasts 10 days.
    db_session.add(LedgerEntry(account_id=account.id, amount=-30000, kind="usage",
                               created_at=utcnow() - timedelta(days=2)))
    account.balance = 10000
    db_session.add(LedgerEntry(account_id=account.id, amount=40000, kind="adjustment"))
    db_session.commit()
    login_as("+79161234567")
    assert "Enough for about 10 days" in client.get("/").text
    assert "Enough for about 10 days" in client.get("/?block=summary", headers={"HX-Request": "true"}).text


def test_the_main_navigation_marks_the_current_section(client, db_session, login_as):
    factories.make_line(db_session, "+79161234567")
    db_session.commit()
    login_as("+79161234567")
    for url, current in (("/", "/"), ("/payments/history", "/payments/"), ("/tariffs/", "/services/"),
                         ("/numbers/", "/numbers/"), ("/archive", "/settings/")):
        page = client.get(url).text
        nav = page[page.index('<nav class="tabs"'):]
        nav = nav[:nav.index("</nav>")]
        assert nav.count('aria-current="page"') == 1, url
        assert f'<a href="{current}" aria-current="page">' in nav, url


def test_the_kept_tab_bar_follows_the_language(client, db_session, login_as):
    """The tab bar is rendered once per language and section (portal/web.py: tab_bar), never one for all."""
    from portal.models import Login

    factories.make_line(db_session, "+79161234567")
    db_session.commit()
    login_as("+79161234567")
    login = db_session.scalars(select(Login)).one()
    for language, home in (("en", "<span>Home</span>"), ("ru", "<span>Главная</span>"), ("en", "<span>Home</span>")):
        login.language = language
        db_session.commit()
        page = client.get("/").text
        assert home in page[page.index('<nav class="tabs"'):], language
