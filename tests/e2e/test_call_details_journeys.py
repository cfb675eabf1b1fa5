"""Call details in a real browser, JavaScript on and off: filter, page back, CSV, order by e-mail.

The e-mail goes over real SMTP to an aiosmtpd server on a free port; Celery is eager
(no REDIS_URL), so the order is sent while the browser waits for the POST's answer.
"""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import to_user_timezone
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain import details
from portal.models import DetailOrder, UsageRecord, utcnow
from tests import factories
from tests.e2e.test_sms_login_journey import Document, sign_in, url_path_is
from tests.unit.test_details_mail import Inbox, free_port

MSISDN = "+79031112233"
CALLS, MESSAGES = 70, 5
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def config_overrides(smtp_server):
    return {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port}


@pytest.fixture
def customer(live_server) -> int:
    """A line with CALLS calls (a minute apart, from an hour ago back) and MESSAGES SMS two days ago."""
    with live_server.app_context() as session:
        account = factories.make_line(session, MSISDN)
        factories.make_login(session, account)
        now = utcnow()
        for i in range(CALLS):
            session.add(UsageRecord(account_id=account.id, started_at=now - timedelta(hours=1, minutes=i),
                                    kind="call_out", counterpart="+79161234567", quantity=65, cost=250))
        for i in range(MESSAGES):
            session.add(UsageRecord(account_id=account.id, started_at=now - timedelta(days=2, minutes=i),
                                    kind="sms", counterpart="Bank", quantity=1, cost=0))
        session.commit()
        return account.id


def rows(page):
    return page.locator("#details-table tbody tr:not(#details-more)")


@JS
def test_details_filter_page_older_download_and_order_by_email(page_factory, live_server, customer, smtp_server, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    with live_server.app.test_request_context("/"):
        today = to_user_timezone(utcnow()).date()

    # A period of three weeks, calls only: the newest page, then the older ones.
    page.goto("/numbers/details")
    form = page.locator("form.filters")
    form.locator("input[name=start]").fill((today - timedelta(days=21)).isoformat())
    form.locator("select[name=kind]").select_option("calls")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/numbers/details"))
    expect(rows(page)).to_have_count(details.PAGE_SIZE)
    expect(page.locator("#details-table")).not_to_contain_text("Bank")
    expect(page.locator(".summary dd").first).to_have_text(str(CALLS))
    url = page.url
    document = Document(page) if js else None
    page.locator("#details-more a").click()
    if js:  # appended in place, the same document and address
        expect(rows(page)).to_have_count(CALLS)
        assert document.kept() and page.url == url
    else:  # the older ones as a page of their own
        expect(page).to_have_url(url_path_is("/numbers/details"))
        expect(rows(page)).to_have_count(CALLS - details.PAGE_SIZE)
    expect(page.locator("#details-more")).to_have_count(0)

    # The CSV of the same filter.
    with page.expect_download() as download:
        page.locator("a[href^='/numbers/details.csv']").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Time,Kind code") and len(lines) == 1 + CALLS

    # By e-mail, as PDF: "sent", and the letter arrived with the file.
    order = page.locator("#details-order-form")
    order.locator("input[name=email]").fill("nope")
    order.locator("button[type=submit]").click()
    expect(page.locator("#details-order-form .error")).to_be_visible()
    page.locator("#details-order-form input[name=email]").fill("anna@example.com")
    page.locator("#details-order-form input[name=format][value=pdf]").check()
    page.locator("#details-order-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/numbers/details/orders/\d+$"))
    expect(page.locator("#detail-order .flash")).to_contain_text("anna@example.com")
    [(_, recipients, message)] = smtp_server.messages
    assert recipients == ["anna@example.com"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content().startswith(b"%PDF")
    with live_server.app_context() as session:
        [saved] = session.scalars(select(DetailOrder)).all()
        assert saved.status == "sent" and saved.kind == "calls" and saved.format == "pdf"
