"""Traffic of a home contract: the daily chart per billing period, the sessions list, paging and the CSV."""
import csv
import io
import re
from datetime import datetime, time, timedelta

import pytest
from flask_babel import to_user_timezone

from portal.domain.history import local_midnight_in_utc
from portal.models import UsageRecord, utcnow
from tests import factories

CONTRACT = "HC-100200"


@pytest.fixture
def today(app):
    with app.test_request_context():
        return to_user_timezone(utcnow()).date()


@pytest.fixture
def home(client, db_session):
    account = factories.make_home_contract(db_session, CONTRACT, billing_day=1)
    factories.make_login(db_session, account)
    db_session.commit()
    assert client.post_form("/auth/login", {"phone": CONTRACT, "password": factories.PASSWORD}).status_code == 303
    return account


def add_sessions(session, account_id, day, n, *, kb=2048, tz="Europe/Moscow", ip="10.20.30.40"):
    """``n`` sessions starting at local noon of ``day``, one minute apart, each an hour long."""
    noon = local_midnight_in_utc(day, tz) + timedelta(hours=12)
    for i in range(n):
        started = noon - timedelta(minutes=i)
        session.add(UsageRecord(account_id=account_id, started_at=started, kind="data", counterpart="internet",
                                quantity=kb, ended_at=started + timedelta(hours=1), ip=ip))
    session.commit()


def test_the_chart_shows_each_day_of_this_billing_period(client, db_session, home, today):
    add_sessions(db_session, home.id, today, 2, kb=3 * 1024)
    response = client.get("/numbers/traffic")
    assert response.status_code == 200
    page = response.text
    assert "<svg" in page and 'class="seg seg-traffic"' in page and "<desc" in page
    assert page.count('class="label"') == today.day  # the 1st to today
    assert "6 MB" in page and "style=" not in page
    assert f'<option selected value="{today.replace(day=1).isoformat()}">' in page


def test_a_past_billing_period_is_chosen_from_the_list(client, db_session, home, today):
    last_month = today.replace(day=1) - timedelta(days=1)
    add_sessions(db_session, home.id, last_month, 1, kb=5 * 1024)
    start = last_month.replace(day=1)
    page = client.get("/numbers/traffic", query_string={"period": start.isoformat()}).text
    assert page.count('class="label"') == last_month.day and "5 MB" in page
    assert f"start={start.isoformat()}" in page and f"end={last_month.isoformat()}" in page  # its sessions' link
    options = re.findall(r'<option (?:selected )?value="([\d-]+)"', page)
    assert len(options) in (6, 7) and options[0] == today.replace(day=1).isoformat()  # six months back at most


@pytest.mark.parametrize("bad", ["2020-01-01", "garbage", "2999-01-01"])
def test_a_period_not_in_the_list_is_422_with_the_error_at_the_field(client, home, bad):
    response = client.get("/numbers/traffic", query_string={"period": bad})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text and "Choose a billing period from the list." in response.text
    assert "class=\"card chart" not in response.text  # no chart for a refused period


def test_the_sessions_list_pages_with_and_without_htmx(client, db_session, home, today):
    add_sessions(db_session, home.id, today, 55)
    page = client.get("/numbers/traffic/sessions").text
    assert page.count("10.20.30.40") == 50 and "2 MB" in page
    assert re.search(r"Sessions</dt><dd>55<", page) and "110 MB" in page
    more = re.search(r'<a href="([^"]+before=[^"]+)"', page).group(1).replace("&amp;", "&")
    fragment = client.get(more, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and fragment.text.count("10.20.30.40") == 5
    full = client.get(more).text
    assert "<html" in full and full.count("10.20.30.40") == 5 and "Back to the newest" in full


def test_the_csv_is_streamed_with_a_bom_start_end_seconds_volume_and_ip(client, db_session, home, today):
    add_sessions(db_session, home.id, today, 3, kb=4096)
    db_session.add(UsageRecord(account_id=home.id, kind="data", counterpart="internet", quantity=1,
                               started_at=local_midnight_in_utc(today, "Europe/Moscow") + timedelta(hours=13)))
    db_session.commit()
    response = client.get("/numbers/traffic/sessions.csv",
                          query_string={"start": today.isoformat(), "end": today.isoformat()})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment; filename=sessions-" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["Start", "End", "Duration, s", "Volume, KB", "IP address"]
    assert rows[1][1:] == ["", "", "1", ""]  # the newest is still open: no end, no IP yet
    assert rows[2][2:] == ["3600", "4096", "10.20.30.40"] and rows[2][0].endswith("+03:00")
    assert len(rows) == 5


@pytest.mark.parametrize("bad", [
    lambda t: {"start": (t + timedelta(days=1)).isoformat(), "end": t.isoformat()},
    lambda t: {"start": t.isoformat(), "end": (t + timedelta(days=1)).isoformat()},
    lambda t: {"start": (t - timedelta(days=200)).isoformat(), "end": t.isoformat()},
    lambda t: {"start": "yesterday", "end": t.isoformat()},
])
def test_a_bad_sessions_period_is_422_for_the_page_and_the_csv(client, db_session, home, today, bad):
    add_sessions(db_session, home.id, today, 2)
    for url in ("/numbers/traffic/sessions", "/numbers/traffic/sessions.csv"):
        response = client.get(url, query_string=bad(today))
        assert response.status_code == 422, url
        assert response.mimetype == "text/html" and "10.20.30.40" not in response.text
        assert 'class="error"' in response.text


def test_a_mobile_line_in_focus_has_no_traffic_pages(client, login_as):
    login_as("+79161234567")
    for url in ("/numbers/traffic", "/numbers/traffic/sessions", "/numbers/traffic/sessions.csv"):
        assert client.get(url).status_code == 404, url


def test_another_customers_contract_is_never_shown(client, db_session, home, today):
    other = factories.make_home_contract(db_session, "HC-555555")
    add_sessions(db_session, other.id, today, 3, ip="192.0.2.99")
    with client.session_transaction() as cookie:
        cookie["focus"] = other.id  # a forged focus falls back to the login's own contract
    for url in ("/numbers/traffic", "/numbers/traffic/sessions", "/numbers/traffic/sessions.csv"):
        response = client.get(url)
        assert response.status_code == 200 and b"192.0.2.99" not in response.data, url
    assert "HC-100200" in client.get("/numbers/traffic").text


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/numbers/traffic").status_code in (302, 303)


def test_the_home_dashboard_links_to_the_statistics(client, home):
    page = client.get("/").text
    assert 'href="/numbers/traffic"' in page and 'href="/numbers/traffic/sessions"' in page


def test_the_pages_stay_within_the_query_budget(client, db_session, home, today, count_queries):
    add_sessions(db_session, home.id, today, 60)
    for url in ("/numbers/traffic", "/numbers/traffic/sessions"):
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        assert len(statements) <= 10, (url, statements)


def test_sessions_of_a_day_count_on_the_local_day_they_start(client, db_session, home, today):
    if today.day < 2:
        pytest.skip("needs yesterday in the same billing period")
    yesterday = today - timedelta(days=1)
    late = local_midnight_in_utc(today, "Europe/Moscow") - timedelta(minutes=30)  # 23:30 local, 20:30 UTC
    db_session.add(UsageRecord(account_id=home.id, started_at=late, kind="data", counterpart="internet",
                               quantity=7 * 1024))
    db_session.commit()
    page = client.get("/numbers/traffic").text
    assert re.search(rf"{yesterday:%d.%m}</text>\s*<rect[^>]*><title>7 MB", page)
    assert datetime.combine(today, time()) > late
