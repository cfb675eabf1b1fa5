"""A home contract in focus sees what applies to it: traffic (not call details), no web SMS, "contract" wording,
and a pause reads "paused until <date>"."""
from datetime import timedelta

import pytest

from tests import factories
from tests.web.account.test_home_pause import CONTRACT, post_pause, today


@pytest.fixture
def home(db_session):
    from tests.web.account.test_home_pause import make_home

    tariff = factories.make_tariff(db_session, kind="home", name="Home 500 + TV", monthly_fee=99000,
                                   pause_monthly_fee=9900, unlimited_data=True, speed_mbps=500,
                                   connection_types="gpon")
    return make_home(db_session, CONTRACT, tariff=tariff)


@pytest.fixture
def signed_in(client, home):
    assert client.post_form("/auth/login", {"phone": CONTRACT, "password": factories.PASSWORD}).status_code == 303
    return client


def test_the_numbers_page_offers_traffic_not_call_details_or_sms(signed_in, home):
    page = signed_in.get("/numbers/").text
    tools = page[page.index('id="number-tools"'):page.index("</ul>", page.index('id="number-tools"'))]
    assert 'href="/numbers/traffic"' in tools
    assert 'href="/numbers/details"' not in tools and 'href="/numbers/sms"' not in tools
    assert "your own contract" in page and "your own number" not in page


def test_call_details_lead_a_home_contract_to_its_traffic(signed_in):
    response = signed_in.get("/numbers/details")
    assert response.status_code == 303 and response.location == "/numbers/traffic"


def test_a_home_contract_is_offered_no_web_sms(signed_in):
    page = signed_in.get("/numbers/sms")  # typed by hand: it says why (tests/web/numbers/test_websms.py)
    assert 'id="sms-form"' not in page.text
    assert 'href="/numbers/sms"' not in signed_in.get("/numbers/").text


def test_the_contract_page_speaks_of_a_contract_and_of_internet_and_tv(signed_in, home):
    page = signed_in.get(f"/numbers/{home.id}/").text
    assert "<dt>Contract</dt>" in page and "<dt>Number</dt>" not in page
    assert "Internet and TV work." in page and "Calls, SMS and internet" not in page


def test_a_paused_contract_reads_paused_until_its_last_day(signed_in, home):
    assert post_pause(signed_in, today(), 7, confirm=True).status_code == 303
    last_day = today() + timedelta(days=6)
    expected = f"Paused until {last_day:%B} {last_day.day}, {last_day.year} inclusive"  # a long date in a sentence
    dashboard = signed_in.get("/").text
    status = dashboard[dashboard.index('class="status status-blocked_by_owner"'):]
    assert status[:status.index("</dd>")].endswith(expected)
    assert expected in signed_in.get("/numbers/").text
    line = signed_in.get(f"/numbers/{home.id}/").text
    assert expected in line and "Paused at your request: internet and TV are off." in line
    contracts = signed_in.get("/settings/contracts").text
    assert expected in contracts
    assert "Blocked at your request" not in dashboard + line + contracts


def test_a_mobile_line_keeps_its_call_details_and_sms(client, login_as):
    login_as("+79161234567")
    page = client.get("/numbers/").text
    assert 'href="/numbers/details"' in page and 'href="/numbers/sms"' in page and "your own number" in page
    assert client.get("/numbers/sms").status_code == 200
    assert client.get("/numbers/details").status_code == 200


def test_the_password_hint_of_a_home_login_does_not_speak_of_a_number(signed_in):
    page = signed_in.get("/settings/password").text
    assert "At least 8 characters; not a common password." in page and "not your number" not in page
