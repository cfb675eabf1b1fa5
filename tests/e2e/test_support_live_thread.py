"""With JavaScript an open thread updates itself: the customer, typing a reply, sees staff's answers arrive (the
first reloads the page as the state changes, the next only adds to the thread and keeps the typed text); staff
see the customer's reply arrive the same way."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain.audit import Actor
from portal.domain.support import requests as support
from portal.models import Staff, SupportRequest, utcnow
from tests import factories
from tests.e2e.conftest import wait_for_htmx
from tests.e2e.test_sms_login_journey import sign_in, url_path_is

MSISDN = "+79161234567"


@pytest.fixture
def config_overrides():
    return {"SUPPORT_THREAD_POLL_S": 1}


def staff_answers(live_server, request_id: int, text: str) -> None:
    with live_server.app_context() as session:
        staff = session.scalar(select(Staff))
        support.reply_as_staff(session, request_id=request_id, staff_id=staff.id, text=text, internal=False,
                               idempotency_key=None, actor=Actor(staff_id=staff.id), now=utcnow())


def test_the_customers_open_thread_shows_answers_as_they_come(page_factory, live_server):
    with live_server.app_context() as session:
        factories.ensure_login(session, MSISDN)
        factories.make_staff(session, email="agent@example.com")
    page = page_factory(True)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/support/")
    page.locator("select[name=category]").select_option("quality")
    page.locator("textarea[name=text]").fill("No signal at home since Monday.")
    page.locator("#new-request button[type=submit]").click()
    expect(page.locator("#thread")).to_contain_text("No signal at home")
    with live_server.app_context() as session:
        request_id = session.scalar(select(SupportRequest.id))
    wait_for_htmx(page)

    staff_answers(live_server, request_id, "We are looking at the tower near you.")
    expect(page.locator("#thread")).to_contain_text("We are looking at the tower", timeout=10_000)
    expect(page.locator("#request-state")).to_contain_text("waiting for your answer")  # the page came again
    wait_for_htmx(page)
    page.locator("#reply textarea[name=text]").fill("Thank you, I")
    staff_answers(live_server, request_id, "Fixed: please restart the phone.")
    expect(page.locator("#thread")).to_contain_text("please restart the phone", timeout=10_000)
    expect(page.locator("#reply textarea[name=text]")).to_have_value("Thank you, I")  # only the thread changed


def test_staff_see_the_customers_reply_arrive(page_factory, live_server):
    with live_server.app_context() as session:
        login = factories.ensure_login(session, MSISDN)
        staff = factories.make_staff(session, email="agent@example.com")
        outcome = support.open_request(session, login_id=login.id, account_id=login.primary_account_id,
                                       category="quality", text="No signal.", idempotency_key=None,
                                       actor=Actor(login_id=login.id), now=utcnow(), per_day=10)
        support.reply_as_staff(session, request_id=outcome.request_id, staff_id=staff.id, text="Which street?",
                               internal=False, idempotency_key=None, actor=Actor(staff_id=staff.id), now=utcnow())
        login_id = login.id
    page = page_factory(True)
    page.goto("/admin/login")
    page.locator("main form input[name=email]").fill("agent@example.com")
    page.locator("main form input[name=password]").fill(factories.PASSWORD)
    page.locator("main form[action='/admin/login'] button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/admin/"))
    page.goto(f"/admin/support/{outcome.request_id}")
    wait_for_htmx(page)
    with live_server.app_context() as session:
        support.reply_as_customer(session, request_id=outcome.request_id, login_id=login_id, text="Tverskaya 1.",
                                  idempotency_key=None, actor=Actor(login_id=login_id), now=utcnow())
    expect(page.locator("#thread")).to_contain_text("Tverskaya 1.", timeout=10_000)
