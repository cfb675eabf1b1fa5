"""Staff follow SMS through the SMSC: the outbox shows each message's delivery state with its time, and filters by
state (JavaScript on and off)."""
from datetime import datetime

from playwright.sync_api import expect

from portal.models import SmsMessage
from tests import factories
from tests.e2e.test_sms_login_journey import JS, STAFF_EMAIL, url_path_is


@JS
def test_staff_filter_the_outbox_by_delivery_state(page_factory, live_server, js):
    with live_server.app_context() as session:
        factories.make_staff(session, email=STAFF_EMAIL)
        sent_at = datetime(2026, 12, 1, 9, 0)
        session.add_all([
            SmsMessage(to="+79161234567", text="Your balance is low", purpose="alert", status="delivered",
                       sent_at=sent_at, done_at=datetime(2026, 12, 1, 9, 7)),
            SmsMessage(to="+79031112233", text="Your bill is ready", purpose="notice", status="expired",
                       sent_at=sent_at, done_at=datetime(2026, 12, 2, 9, 0)),
            SmsMessage(to="+79031112244", text="Welcome", purpose="notice", status="failed", sent_at=sent_at,
                       done_at=datetime(2026, 12, 1, 9, 1), error="SMSC error 0x0000000B: Invalid destination"),
        ])
        session.commit()

    staff = page_factory(js)
    staff.goto("/admin/login")
    staff.locator("main form input[name=email]").fill(STAFF_EMAIL)
    staff.locator("main form input[name=password]").fill(factories.PASSWORD)
    staff.locator("main form[action='/admin/login'] button[type=submit]").click()
    expect(staff).to_have_url(url_path_is("/admin/"))

    staff.locator("header nav a[href='/admin/sms']").click()
    expect(staff).to_have_url(url_path_is("/admin/sms"))
    rows = staff.locator("main table tbody tr")
    expect(rows).to_have_count(3)

    staff.locator("main form select[name=state]").select_option("expired")
    staff.locator("main form button[type=submit]").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Your bill is ready")
    expect(rows.first).to_contain_text("expired, 12/02/2026")
    assert "state=expired" in staff.url

    staff.locator("main form select[name=state]").select_option("failed")
    staff.locator("main form button[type=submit]").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("0x0000000B")
    staff.console_watch.assert_clean()
