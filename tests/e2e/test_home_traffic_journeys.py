"""Home traffic in a real browser, JavaScript on and off: the daily chart, another billing period, its sessions
page by page, and the CSV."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import to_user_timezone
from playwright.sync_api import expect

from portal.domain import details
from portal.domain.history import local_midnight_in_utc
from portal.models import UsageRecord, utcnow
from tests import factories
from tests.e2e.test_sms_login_journey import Document, sign_in, url_path_is

CONTRACT = "HC-100200"
LAST_MONTH_SESSIONS = 60
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def household(live_server):
    """A home contract (billing day 1) with 3 sessions today and 60 on the 10th of last month."""
    with live_server.app_context() as session, live_server.app.test_request_context("/"):
        today = to_user_timezone(utcnow()).date()
        account = factories.make_home_contract(session, CONTRACT, billing_day=1)
        factories.make_login(session, account)
        last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=10)
        noon = local_midnight_in_utc(last_month, "Europe/Moscow") + timedelta(hours=12)
        for i in range(LAST_MONTH_SESSIONS):
            started = noon - timedelta(minutes=10 * i)
            session.add(UsageRecord(account_id=account.id, started_at=started, kind="data", quantity=1024,
                                    ended_at=started + timedelta(minutes=5), ip=f"100.64.0.{i + 1}"))
        for i in range(3):
            started = utcnow() - timedelta(minutes=30 + i)
            session.add(UsageRecord(account_id=account.id, started_at=started, kind="data", quantity=2048,
                                    ended_at=started + timedelta(minutes=1), ip="100.64.9.9"))
        session.commit()
        return today, last_month


def rows(page):
    return page.locator("#sessions-table tbody tr:not(#sessions-more)")


@JS
def test_traffic_chart_past_period_sessions_and_csv(page_factory, household, js):
    today, last_month = household
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, CONTRACT, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))

    # From the dashboard to this billing period's chart: a bar per day so far, today's traffic written out.
    page.get_by_role("link", name="Traffic statistics").click()
    expect(page).to_have_url(url_path_is("/numbers/traffic"))
    chart = page.locator("figure.chart svg")
    expect(chart.locator("text.label")).to_have_count(today.day)
    expect(chart.locator("rect.seg-traffic")).to_have_count(1)
    expect(chart).to_contain_text("6 MB")

    # Last month's period: every day of it, one bar on the 10th.
    start = last_month.replace(day=1).isoformat()
    page.locator("select[name=period]").select_option(start)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"/numbers/traffic\?period={start}$"))
    expect(chart.locator("text.label")).to_have_count((today.replace(day=1) - timedelta(days=1)).day)
    expect(chart.locator("rect.seg-traffic")).to_have_count(1)
    expect(page.locator(".summary dd")).to_have_text("60 MB")

    # Its sessions, newest first, then the older ones.
    page.get_by_role("link", name="Sessions of this period").click()
    expect(page).to_have_url(url_path_is("/numbers/traffic/sessions"))
    expect(rows(page)).to_have_count(details.PAGE_SIZE)
    expect(page.locator(".summary dd").first).to_have_text(str(LAST_MONTH_SESSIONS))
    expect(rows(page).first).to_contain_text("100.64.0.1")
    url = page.url
    document = Document(page) if js else None
    page.locator("#sessions-more a").click()
    if js:  # appended in place
        expect(rows(page)).to_have_count(LAST_MONTH_SESSIONS)
        assert document.kept() and page.url == url
    else:
        expect(rows(page)).to_have_count(LAST_MONTH_SESSIONS - details.PAGE_SIZE)
        expect(page.get_by_role("link", name="Back to the newest")).to_be_visible()
    expect(page.locator("#sessions-more")).to_have_count(0)

    # The CSV of the same period: a line per session with its end and address.
    with page.expect_download() as download:
        page.locator("a[href^='/numbers/traffic/sessions.csv']").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == 'Start,End,"Duration, s","Volume, KB",IP address' and len(lines) == 1 + LAST_MONTH_SESSIONS
    assert lines[1].endswith(",300,1024,100.64.0.1")

    # A period too far back is refused next to its field, with no rows.
    page.locator("input[name=start]").fill((today - timedelta(days=400)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#start-error")).to_contain_text("6 months")
    expect(page.locator("#sessions-table")).to_have_count(0)
