"""A support request end to end, JavaScript on and off: the customer opens it from "More", staff answer, the
customer sees the answer (and the SMS is queued), replies, closes it and rates it."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import SmsMessage, SupportRequest
from tests import factories
from tests.e2e.test_sms_login_journey import sign_in, url_path_is

MSISDN = "+79161234567"
STAFF_EMAIL = "agent@example.com"
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def customer(live_server):
    with live_server.app_context() as session:
        factories.ensure_login(session, MSISDN)
        factories.make_staff(session, email=STAFF_EMAIL)


def staff_answers(page, request_id: int) -> None:
    page.goto("/admin/login")
    page.locator("main form input[name=email]").fill(STAFF_EMAIL)
    page.locator("main form input[name=password]").fill(factories.PASSWORD)
    page.locator("main form[action='/admin/login'] button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/admin/"))
    page.locator("a[href='/admin/support']").first.click()
    expect(page).to_have_url(url_path_is("/admin/support"))
    page.locator(f"#queue a[href='/admin/support/{request_id}']").click()
    expect(page).to_have_url(url_path_is(f"/admin/support/{request_id}"))
    page.locator("#assigned button[type=submit]").click()
    expect(page.locator("#assigned")).to_contain_text("Agent")
    reply = page.locator("#reply")
    reply.locator("textarea[name=text]").fill("Checked the line: the tower was under maintenance.")
    reply.locator("input[name=internal]").check()
    reply.locator("button[type=submit]").click()
    expect(page.locator("#thread")).to_contain_text("Internal note")
    reply.locator("textarea[name=text]").fill("The tower near you was under maintenance; it works again.")
    reply.locator("button[type=submit]").click()
    expect(page.locator("#thread li")).to_have_count(3)
    expect(page.locator("#request-state")).to_contain_text("waiting for the customer")


@JS
def test_a_request_is_answered_replied_closed_and_rated(page_factory, live_server, customer, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/settings/")
    page.locator("main a[href='/support/']").click()
    expect(page).to_have_url(url_path_is("/support/"))

    form = page.locator("#new-request")
    form.locator("button[type=submit]").click()  # nothing filled in: errors next to the fields
    expect(page.locator("#text-error")).to_be_visible()
    expect(page.locator("#category-error")).to_be_visible()
    form.locator("select[name=category]").select_option("quality")
    form.locator("textarea[name=text]").fill("No signal at home since yesterday evening.")
    form.locator("button[type=submit]").click()
    expect(page.locator("#thread")).to_contain_text("No signal at home since yesterday evening.")
    with live_server.app_context() as session:
        request_id = session.scalar(select(SupportRequest.id))
    expect(page).to_have_url(url_path_is(f"/support/{request_id}"))

    staff_answers(page_factory(js), request_id)
    with live_server.app_context() as session:
        texts = session.scalars(select(SmsMessage.text).where(SmsMessage.to == MSISDN)).all()
    assert texts == [f"TestTel: support answered your request #{request_id}. Read it in your personal account."]

    page.goto(f"/support/{request_id}")
    thread = page.locator("#thread")
    expect(thread).to_contain_text("it works again")
    expect(thread).not_to_contain_text("under maintenance.")  # the internal note stays with staff
    expect(page.locator("#request-state")).to_contain_text("waiting for your answer")
    page.locator("#reply textarea[name=text]").fill("Yes, it works now. Thank you!")
    page.locator("#reply button[type=submit]").click()
    expect(thread.locator("li")).to_have_count(3)
    expect(page.locator("#request-state")).to_contain_text("in progress")

    page.locator("#close button[type=submit]").click()
    expect(page.locator("#request-state")).to_contain_text("closed")
    rate = page.locator("form#rate")
    rate.locator("input[name=rating][value='5']").check()
    rate.locator("textarea[name=comment]").fill("Quick and clear.")
    rate.locator("button[type=submit]").click()
    expect(page.locator("#rate")).to_contain_text("Your rating: 5 of 5.")
    with live_server.app_context() as session:
        request = session.get(SupportRequest, request_id)
        assert (request.state, request.rating, request.rating_comment) == ("closed", 5, "Quick and clear.")
    page.goto("/support/")
    expect(page.locator("#my-requests")).to_contain_text("closed")
