"""Saved answers end to end, JavaScript on and off: an admin adds one, a support agent inserts it into a reply
(filled for the request), edits and sends it, and the customer reads it."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain.audit import Actor
from portal.domain.support import requests as support
from portal.models import SupportRequest, utcnow
from tests import factories
from tests.e2e.conftest import wait_for_htmx
from tests.e2e.test_sms_login_journey import sign_in, url_path_is

MSISDN = "+79161234567"
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


@pytest.fixture
def request_id(live_server):
    with live_server.app_context() as session:
        login = factories.ensure_login(session, MSISDN)
        login.primary_account.customer.name = "Anna Petrova"
        factories.make_staff(session, email="admin@example.com", role="admin")
        factories.make_staff(session, email="agent@example.com", role="support")
        session.commit()
        return support.open_request(session, login_id=login.id, account_id=login.primary_account_id,
                                    category="quality", text="No signal at home.", idempotency_key="e" * 24,
                                    actor=Actor(login_id=login.id), now=utcnow(), per_day=10).request_id


def staff_sign_in(page, email: str) -> None:
    page.goto("/admin/login")
    page.locator("main form input[name=email]").fill(email)
    page.locator("main form input[name=password]").fill(factories.PASSWORD)
    page.locator("main form[action='/admin/login'] button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/admin/"))


@JS
def test_an_admin_saves_an_answer_support_inserts_it_and_the_customer_reads_it(page_factory, live_server,
                                                                                request_id, js):
    admin = page_factory(js)
    staff_sign_in(admin, "admin@example.com")
    admin.locator("a[href='/admin/support/topics']").first.click()
    expect(admin).to_have_url(url_path_is("/admin/support/topics"))
    expect(admin.locator("#topics")).to_contain_text("Connection quality")
    admin.locator("main a[href='/admin/support/answers']").click()
    expect(admin).to_have_url(url_path_is("/admin/support/answers"))
    form = admin.locator("#new-answer")
    form.locator("button[type=submit]").click()  # nothing filled in: errors next to the fields
    expect(admin.locator("#title-error")).to_be_visible()
    form.locator("input[name=title]").fill("Tower works again")
    form.locator("textarea[name=text]").fill("Hello {name}, we checked {number}: the tower works again.")
    form.locator("select[name=topic_id]").select_option(label="Connection quality")
    form.locator("button[type=submit]").click()
    expect(admin.locator("#answers")).to_contain_text("Tower works again")

    agent = page_factory(js)
    staff_sign_in(agent, "agent@example.com")
    expect(agent.locator("a[href='/admin/support/topics']")).to_have_count(0)  # admins only
    agent.goto(f"/admin/support/{request_id}")
    reply = agent.locator("#reply")
    reply.locator("textarea[name=text]").fill("Good news.")
    reply.locator("select[name=answer]").select_option(label="Tower works again")
    reply.locator("#insert-answer").click()
    filled = "Hello Anna Petrova, we checked +7 916 123-45-67: the tower works again."
    expect(reply.locator("textarea[name=text]")).to_have_value(f"Good news.\n\n{filled}")
    # With htmx only the answer box changed (the page stayed); without, the page came back from /insert.
    expect(agent).to_have_url(url_path_is(f"/admin/support/{request_id}" + ("" if js else "/insert")))
    expect(agent.locator("#thread li")).to_have_count(1)  # nothing sent yet
    if js:
        wait_for_htmx(agent)
    box = reply.locator("textarea[name=text]")
    box.fill(box.input_value() + " Call us any time.")  # staff edit what they inserted
    reply.locator("button[type=submit]:not(#insert-answer)").click()
    expect(agent).to_have_url(url_path_is(f"/admin/support/{request_id}"))
    expect(agent.locator("#thread li")).to_have_count(2)
    expect(agent.locator("#thread")).to_contain_text(f"{filled} Call us any time.")

    customer = page_factory(js)
    customer.goto("/auth/login")
    sign_in(customer, MSISDN, factories.PASSWORD)
    expect(customer).to_have_url(url_path_is("/"))
    customer.goto(f"/support/{request_id}")
    expect(customer.locator("#thread")).to_contain_text("Good news.")
    expect(customer.locator("#thread")).to_contain_text("the tower works again. Call us any time.")
    with live_server.app_context() as session:
        assert session.scalar(select(SupportRequest.state).where(SupportRequest.id == request_id)) == "waiting"
