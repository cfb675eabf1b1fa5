"""Support requests through the pages: the customer opens, reads, replies, closes and rates; staff work the queue."""
import re

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, SmsMessage, SupportMessage, SupportRequest
from tests import factories
from tests.helpers import key_of


def staff_client(app, db_session, role="support", email=None):
    email = email or f"{role}@example.com"
    factories.make_staff(db_session, email=email, role=role)
    client = app.test_client()
    client.post_form("/admin/login", {"email": email, "password": factories.PASSWORD})
    return client


def open_request(client, text="The internet is slow in the evenings.", category="quality"):
    page = client.get("/support/")
    return client.post_form("/support/", {"idempotency_key": key_of(page.text), "category": category, "text": text})


@pytest.fixture
def customer(client, login_as):
    login_as("+79161234567")
    return client


@pytest.fixture
def request_id(customer, db_session):
    response = open_request(customer)
    assert response.status_code == 303
    return db_session.scalar(select(SupportRequest.id))


def test_the_support_page_offers_a_new_request_about_the_number_in_focus(customer):
    page = customer.get("/support/")
    assert page.status_code == 200
    assert "New request" in page.text and "About number" in page.text and "Connection quality" in page.text
    assert "/support/" in customer.get("/settings/").text


def test_a_customer_opens_a_request_and_sees_it_listed(customer, db_session):
    response = open_request(customer)
    request = db_session.scalar(select(SupportRequest))
    assert response.location.endswith(f"/support/{request.id}")
    thread = customer.get(response.location).text
    assert "The internet is slow in the evenings." in thread and "Sent" not in thread
    assert f"Request #{request.id} is sent" in thread
    listing = customer.get("/support/").text
    assert f"#{request.id} The internet is slow" in listing and ">new<" in listing


def test_an_empty_request_is_refused_next_to_its_fields(customer, db_session):
    page = customer.get("/support/")
    response = customer.post_form("/support/", {"idempotency_key": key_of(page.text), "category": "", "text": " "})
    assert response.status_code == 422
    assert 'id="category-error"' in response.text and 'id="text-error"' in response.text
    assert db_session.scalar(select(SupportRequest)) is None


def test_the_daily_quota_answers_429(app, customer, db_session):
    app.config["SUPPORT_REQUESTS_PER_DAY"] = 1
    assert open_request(customer).status_code == 303
    response = open_request(customer, text="Another one")
    assert response.status_code == 429 and "You have opened 1 requests today." in response.text


def test_a_double_submit_opens_one_request(customer, db_session):
    page = customer.get("/support/")
    data = {"idempotency_key": key_of(page.text), "category": "money", "text": "Where is my payment?"}
    customer.post_form("/support/", data)
    assert customer.post_form("/support/", data).status_code == 303
    assert len(db_session.scalars(select(SupportRequest)).all()) == 1


def test_a_post_without_the_csrf_token_is_refused(customer, request_id):
    assert customer.post("/support/", data={"category": "money", "text": "x"}).status_code == 400
    assert customer.post(f"/support/{request_id}/close").status_code == 400


def test_another_customer_gets_404_for_every_page_of_a_request(app, request_id, db_session):
    other = app.test_client()
    factories.ensure_login(db_session, "+79031112233")
    other.post_form("/auth/login", {"phone": "+79031112233", "password": factories.PASSWORD})
    assert other.get(f"/support/{request_id}").status_code == 404
    for action in ("reply", "close", "rate"):
        assert other.post_form(f"/support/{request_id}/{action}", {"text": "x", "rating": "5",
                                                                  "idempotency_key": "z" * 24}).status_code == 404
    assert other.get("/support/").text.count("The internet is slow") == 0


def test_staff_answer_the_customer_reads_it_replies_closes_and_rates(app, customer, request_id, db_session):
    staff = staff_client(app, db_session)
    page = staff.get(f"/admin/support/{request_id}").text
    response = staff.post_form(f"/admin/support/{request_id}/reply",
                               {"idempotency_key": key_of(page), "text": "Tower maintenance, fixed by 18:00."})
    assert response.status_code == 303
    sms = db_session.scalar(select(SmsMessage).where(SmsMessage.to == "+79161234567"))
    assert sms.text == f"TestTel: support answered your request #{request_id}. Read it in your personal account."

    thread = customer.get(f"/support/{request_id}").text
    assert "Tower maintenance, fixed by 18:00." in thread and "waiting for your answer" in thread
    response = customer.post_form(f"/support/{request_id}/reply",
                                  {"idempotency_key": key_of(thread), "text": "Thank you, it works."})
    assert response.status_code == 303
    assert db_session.get(SupportRequest, request_id).state == "in_progress"
    assert customer.post_form(f"/support/{request_id}/close").status_code == 303
    thread = customer.get(f"/support/{request_id}").text
    assert 'id="rate"' in thread and 'id="reply"' not in thread
    assert customer.post_form(f"/support/{request_id}/rate", {"rating": "9"}).status_code == 422
    assert customer.post_form(f"/support/{request_id}/rate", {"rating": "5", "comment": "Fast"}).status_code == 303
    assert "Your rating: 5 of 5." in customer.get(f"/support/{request_id}").text
    actions = set(db_session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "support_request")))
    assert actions == {"support_opened", "support_answered", "support_customer_replied", "support_closed",
                       "support_rated"}


def test_an_empty_reply_is_refused_with_422(customer, request_id):
    thread = customer.get(f"/support/{request_id}").text
    response = customer.post_form(f"/support/{request_id}/reply", {"idempotency_key": key_of(thread), "text": ""})
    assert response.status_code == 422 and 'id="text-error"' in response.text


def test_an_internal_note_is_hidden_from_the_customer_and_sends_no_sms(app, customer, request_id, db_session):
    staff = staff_client(app, db_session)
    page = staff.get(f"/admin/support/{request_id}").text
    staff.post_form(f"/admin/support/{request_id}/reply",
                    {"idempotency_key": key_of(page), "text": "Known issue at tower 17.", "internal": "y"})
    assert "Known issue at tower 17." in staff.get(f"/admin/support/{request_id}").text
    assert "Internal note" in staff.get(f"/admin/support/{request_id}").text
    assert "tower 17" not in customer.get(f"/support/{request_id}").text
    assert db_session.scalar(select(SmsMessage)) is None
    assert db_session.scalar(select(SupportMessage.internal).where(SupportMessage.staff_id.is_not(None)))


def test_the_staff_queue_filters(app, customer, request_id, db_session):
    open_request(customer, text="Where is my payment?", category="money")
    staff = staff_client(app, db_session)
    queue = staff.get("/admin/support").text
    assert "The internet is slow" in queue and "Where is my payment?" in queue
    assert queue.index("The internet is slow") < queue.index("Where is my payment?")  # oldest first
    money = staff.get("/admin/support?view=open&category=money").text
    assert "Where is my payment?" in money and "The internet is slow" not in money
    assert "No requests here." in staff.get("/admin/support?view=mine").text
    staff.post_form(f"/admin/support/{request_id}/assign")
    mine = staff.get("/admin/support?view=mine").text
    assert "The internet is slow" in mine and "Where is my payment?" not in mine
    assert "No requests here." in staff.get("/admin/support?view=overdue").text
    app.config["SUPPORT_RESPONSE_HOURS"] = 0
    assert "overdue" in staff.get("/admin/support?view=overdue").text
    assert "The internet is slow" in staff.get("/admin/support?view=overdue").text
    assert staff.get("/admin/support?view=nonsense").status_code == 422


def test_staff_assign_change_the_state_and_it_is_audited(app, request_id, db_session):
    staff = staff_client(app, db_session, role="admin")
    assert staff.post_form(f"/admin/support/{request_id}/assign").status_code == 303
    page = staff.get(f"/admin/support/{request_id}").text
    assert "Give back to the queue" in page and "in progress" in page
    assert staff.post_form(f"/admin/support/{request_id}/state", {"state": "closed"}).status_code == 303
    assert db_session.get(SupportRequest, request_id).state == "closed"
    assert staff.post_form(f"/admin/support/{request_id}/state", {"state": "lost"}).status_code == 422
    staff.post_form(f"/admin/support/{request_id}/assign", {"release": "1"})
    assert db_session.get(SupportRequest, request_id).assigned_staff_id is None
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.staff_id.is_not(None),
                                                                 AuditEvent.object_type == "support_request")).all()
    assert actions == ["support_assigned", "support_state_changed", "support_assigned"]


def test_staff_pages_need_staff_and_unknown_requests_are_404(app, customer, request_id, db_session):
    assert customer.get("/admin/support").status_code == 302
    staff = staff_client(app, db_session)
    assert staff.get("/admin/support/999999").status_code == 404
    assert staff.post_form("/admin/support/999999/reply", {"text": "x"}).status_code == 404


def test_the_customer_page_lists_the_customers_requests(app, request_id, db_session):
    request = db_session.get(SupportRequest, request_id)
    staff = staff_client(app, db_session)
    page = staff.get(f"/admin/customers/{request.account.customer_id}").text
    assert re.search(rf'href="/admin/support/{request_id}">#{request_id} The internet is slow', page)


def test_the_archive_shows_the_customers_own_steps_not_staffs(app, customer, request_id, db_session):
    staff = staff_client(app, db_session)
    page = staff.get(f"/admin/support/{request_id}").text
    staff.post_form(f"/admin/support/{request_id}/reply",
                    {"idempotency_key": key_of(page), "text": "Note.", "internal": "y"})
    customer.post_form(f"/support/{request_id}/close")
    archive = customer.get("/archive").text
    assert "Support request opened" in archive and "Support request closed" in archive
    assert "support_note_added" not in archive and "support_assigned" not in archive


def test_an_outage_on_the_service_shows_before_the_customer_writes(customer, db_session):
    from portal.models import ServiceNotice, utcnow

    assert 'id="notices-lead"' not in customer.get("/support/").text
    db_session.add(ServiceNotice(kind="outage", title="No mobile data in Moscow", text="", scope="mobile",
                                 scope_value="", starts_at=utcnow(), state="investigating"))
    db_session.commit()
    page = customer.get("/support/").text
    assert 'id="notices-lead"' in page and "No mobile data in Moscow" in page
    assert page.index("No mobile data in Moscow") < page.index('id="new-request"')
