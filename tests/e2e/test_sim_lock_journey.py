"""The SIM-swap and port-out lock, JavaScript on and off: the customer switches it on; staff member A starts a SIM
reissue, which waits; A cannot approve it; staff member B records the identity check and approves; the SIM is
replaced and the number told by SMS. Then the customer switches the lock off (it waits a day) and keeps it after all."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Line, SmsMessage
from tests import factories
from tests.e2e.test_sms_login_journey import MSISDN, sign_in, url_path_is

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
ICCID = "89701011234567890123"


def staff_page(page, live_server, js, email):
    staff = page.context.browser.new_context(base_url=live_server.url, java_script_enabled=js).new_page()
    staff.goto("/admin/login")
    staff.locator("main form input[name=email]").fill(email)
    staff.locator("main form input[name=password]").fill(factories.PASSWORD)
    staff.locator("main form[action='/admin/login'] button[type=submit]").click()
    expect(staff).to_have_url(url_path_is("/admin/"))
    return staff


@JS
def test_the_lock_makes_a_sim_reissue_wait_for_a_second_staff_check(page_factory, live_server, js):
    with live_server.app_context() as session:
        account = factories.ensure_login(session, MSISDN).primary_account
        account_id, customer_id = account.id, account.customer_id
        factories.make_staff(session, email="first@example.com")
        factories.make_staff(session, email="second@example.com")
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto(f"/numbers/{account_id}/")
    box = page.locator("#sim-lock")
    expect(box).to_contain_text("off")
    box.get_by_role("button", name="Switch the lock on").click()
    expect(page.locator(".flash")).to_contain_text("The SIM-swap and port-out lock is on")
    expect(page.locator("#sim-lock-state")).to_contain_text("Staff cannot replace the SIM card")

    first = staff_page(page, live_server, js, "first@example.com")
    first.goto(f"/admin/customers/{customer_id}")
    expect(first.locator(f"#sim-lock-{account_id}")).to_contain_text("SIM lock ON for +7 916 123-45-67")
    form = first.locator(f"#sim-reissue-{account_id}")
    form.locator("input[name=iccid]").fill("8970 1011 2345 6789 0124")
    form.get_by_role("button", name="Replace the SIM").click()
    expect(first.locator(f"#sim-reissue-{account_id}")).to_contain_text("check digit does not match")
    first.locator(f"#sim-reissue-{account_id} input[name=iccid]").fill(ICCID)
    first.locator(f"#sim-reissue-{account_id}").get_by_role("button", name="Replace the SIM").click()
    expect(first.locator(".flash")).to_contain_text("waits until another staff member")
    expect(first.locator(f"#sim-{account_id}")).to_contain_text("You started it")

    second = staff_page(page, live_server, js, "second@example.com")
    second.goto(f"/admin/customers/{customer_id}")
    waiting = second.locator(f"#sim-{account_id} [id^=waiting-]")
    expect(waiting).to_contain_text(f"New SIM card {ICCID}")
    waiting.get_by_label("Document checked").select_option("passport")
    waiting.get_by_label("Last 4 characters of its number").fill("4321")
    waiting.get_by_role("button", name="Identity checked: approve").click()
    expect(second.locator(".flash")).to_contain_text("The SIM card is replaced")
    expect(second.locator(f"#sim-card-{account_id}")).to_have_text(ICCID)
    with live_server.app_context() as session:
        assert session.scalar(select(Line.iccid).where(Line.account_id == account_id)) == ICCID
        texts = session.scalars(select(SmsMessage.text).where(SmsMessage.to == MSISDN)).all()
        assert any("SIM card of number" in text for text in texts)
    first.context.close()
    second.context.close()

    page.goto(f"/numbers/{account_id}/")
    page.locator("#sim-lock").get_by_role("button", name="Switch the lock off").click()
    expect(page.locator(".flash")).to_contain_text("The lock switches off at")
    expect(page.locator("#sim-lock-release")).to_contain_text("Switches off at")
    page.locator("#sim-lock").get_by_role("button", name="Keep the lock on").click()
    expect(page.locator(".flash")).to_contain_text("The lock stays on")
    expect(page.locator("#sim-lock-release")).to_have_count(0)
    expect(page.locator("#sim-lock")).to_contain_text("Switch the lock off")
