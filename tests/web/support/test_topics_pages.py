"""Support topics and saved answers through the pages: admins manage them (support staff get 403), customers and
the queue read the topics, staff insert a saved answer into a reply (without JS and with htmx)."""
import re

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, SavedAnswer, SupportMessage, SupportRequest, SupportTopic
from tests.helpers import key_of
from tests.web.support.test_support_pages import open_request, staff_client

HTMX = {"HX-Request": "true"}

ADMIN_PAGES = [
    ("get", "/admin/support/topics"), ("post", "/admin/support/topics"),
    ("get", "/admin/support/topics/1"), ("post", "/admin/support/topics/1"),
    ("post", "/admin/support/topics/1/move"), ("post", "/admin/support/topics/1/active"),
    ("get", "/admin/support/answers"), ("post", "/admin/support/answers"),
    ("get", "/admin/support/answers/{answer}"), ("post", "/admin/support/answers/{answer}"),
    ("post", "/admin/support/answers/{answer}/delete"),
]


@pytest.fixture
def admin(app, db_session):
    return staff_client(app, db_session, role="admin")


@pytest.fixture
def customer(client, login_as):
    login_as("+79161234567")
    return client


def topic_id(db_session, code):
    return db_session.scalar(select(SupportTopic.id).where(SupportTopic.code == code))


def add_answer(admin, title="Payment is late", text="Hello {name}, the money for {number} is on its way.",
               topic=""):
    page = admin.get("/admin/support/answers").text
    return admin.post_form("/admin/support/answers", {"idempotency_key": key_of(page), "title": title, "text": text,
                                                       "topic_id": topic})


def test_support_staff_get_403_on_every_topic_and_answer_page(app, db_session, admin):
    add_answer(admin)
    answer = db_session.scalar(select(SavedAnswer.id))
    support_staff = staff_client(app, db_session, role="support")
    for method, url in ADMIN_PAGES:
        url = url.format(answer=answer)
        response = support_staff.get(url) if method == "get" else support_staff.post_form(url)
        assert response.status_code == 403, url
    assert "Topics and saved answers" not in support_staff.get("/admin/support").text
    assert "Topics and saved answers" in admin.get("/admin/support").text
    assert db_session.scalar(select(func.count()).select_from(SavedAnswer)) == 1


def test_the_pages_ask_for_a_staff_sign_in(client):
    assert client.get("/admin/support/topics").status_code == 302
    assert client.get("/admin/support/answers").status_code == 302


def test_admins_add_a_topic_once_and_customers_and_the_queue_offer_it(admin, customer, db_session):
    page = admin.get("/admin/support/topics")
    assert page.status_code == 200 and "Connection quality" in page.text and "Качество связи" in page.text
    data = {"idempotency_key": key_of(page.text), "code": "roaming", "name_ru": "Роуминг", "name_en": "Roaming"}
    response = admin.post_form("/admin/support/topics", data)
    assert response.status_code == 303 and response.location.endswith("/admin/support/topics")
    assert admin.post_form("/admin/support/topics", data).status_code == 303  # a double click adds nothing
    assert db_session.scalar(select(func.count()).select_from(SupportTopic).where(SupportTopic.code == "roaming")) == 1
    assert "The topic is added." in admin.get("/admin/support/topics").text
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.action == "support_topic_added"))
    assert '<option value="roaming">Roaming</option>' in customer.get("/support/").text
    assert '<option value="roaming">Roaming</option>' in admin.get("/admin/support").text
    assert open_request(customer, category="roaming").status_code == 303
    assert "Roaming" in admin.get("/admin/support?category=roaming").text


def test_a_bad_topic_is_refused_next_to_its_fields(admin, db_session):
    page = admin.get("/admin/support/topics").text
    response = admin.post_form("/admin/support/topics", {"idempotency_key": key_of(page), "code": "",
                                                         "name_ru": "", "name_en": ""})
    assert response.status_code == 422 and 'id="code-error"' in response.text
    response = admin.post_form("/admin/support/topics", {"idempotency_key": key_of(page), "code": "money",
                                                         "name_ru": "Деньги", "name_en": ""})
    assert response.status_code == 422 and "A topic with this code exists." in response.text
    response = admin.post_form("/admin/support/topics", {"idempotency_key": key_of(page), "code": "new",
                                                         "name_ru": " ", "name_en": ""})
    assert response.status_code == 422 and 'id="name_ru-error"' in response.text
    assert db_session.scalar(select(func.count()).select_from(SupportTopic)) == 5


def test_posts_without_the_csrf_token_are_refused(admin, db_session):
    money = topic_id(db_session, "money")
    for url, data in [("/admin/support/topics", {"code": "x1", "name_ru": "X"}),
                      (f"/admin/support/topics/{money}", {"name_ru": "X"}),
                      (f"/admin/support/topics/{money}/move", {"direction": "down"}),
                      (f"/admin/support/topics/{money}/active", {"active": "0"}),
                      ("/admin/support/answers", {"title": "T", "text": "X"})]:
        assert admin.post(url, data=data).status_code == 400, url
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.like("support_topic%"))) == 0


def test_renaming_a_topic_renames_it_everywhere(admin, customer, db_session):
    money = topic_id(db_session, "money")
    page = admin.get(f"/admin/support/topics/{money}")
    assert page.status_code == 200 and 'value="Money and payments"' in page.text
    response = admin.post_form(f"/admin/support/topics/{money}", {"name_ru": "Платежи", "name_en": "Payments"})
    assert response.status_code == 303
    assert db_session.get(SupportTopic, money).name_en == "Payments"
    assert '<option value="money">Payments</option>' in customer.get("/support/").text
    # Only a Russian name: English readers see it rather than nothing.
    admin.post_form(f"/admin/support/topics/{money}", {"name_ru": "Платежи", "name_en": ""})
    assert '<option value="money">Платежи</option>' in customer.get("/support/").text
    refused = admin.post_form(f"/admin/support/topics/{money}", {"name_ru": "", "name_en": ""})
    assert refused.status_code == 422 and 'id="name_ru-error"' in refused.text
    assert admin.get("/admin/support/topics/999").status_code == 404
    assert admin.post_form("/admin/support/topics/999", {"name_ru": "X"}).status_code == 404


def test_up_and_down_buttons_reorder_the_customer_form(admin, customer, db_session):
    other = topic_id(db_session, "other")
    assert admin.post_form(f"/admin/support/topics/{other}/move", {"direction": "up"}).status_code == 303
    admin.post_form(f"/admin/support/topics/{other}/move", {"direction": "up"})
    form = customer.get("/support/").text
    assert re.findall(r'<option value="(\w+)"', form) == ["money", "tariff", "other", "quality", "home"]
    assert admin.post_form(f"/admin/support/topics/{other}/move", {"direction": "sideways"}).status_code == 400
    assert admin.post_form("/admin/support/topics/999/move", {"direction": "up"}).status_code == 404


def test_a_retired_topic_leaves_the_form_and_old_requests_keep_its_name(admin, customer, db_session):
    assert open_request(customer, category="quality").status_code == 303
    request_id = db_session.scalar(select(SupportRequest.id))
    quality = topic_id(db_session, "quality")
    response = admin.post_form(f"/admin/support/topics/{quality}/active", {"active": "0"})
    assert response.status_code == 303 and not db_session.get(SupportTopic, quality).active
    assert "is retired" in admin.get("/admin/support/topics").text
    assert 'value="quality"' not in customer.get("/support/").text
    assert open_request(customer, category="quality").status_code == 422
    assert "Connection quality" in customer.get(f"/support/{request_id}").text
    assert "Connection quality" in customer.get("/support/").text
    assert "Connection quality" in admin.get(f"/admin/support/{request_id}").text
    assert admin.post_form(f"/admin/support/topics/{quality}/active", {"active": "1"}).status_code == 303
    assert 'value="quality"' in customer.get("/support/").text
    assert admin.post_form(f"/admin/support/topics/{quality}/active", {"active": "x"}).status_code == 400
    assert list(db_session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("support_topic%"))
                                   .order_by(AuditEvent.id))) == ["support_topic_retired", "support_topic_restored"]


def test_the_customer_page_reads_the_topics_once(customer, count_queries):
    with count_queries() as statements:
        assert customer.get("/support/").status_code == 200
    assert len([s for s in statements if "FROM support_topic" in s]) == 1


def test_admins_add_edit_and_delete_saved_answers(admin, db_session):
    assert admin.get("/admin/support/answers").status_code == 200
    money = topic_id(db_session, "money")
    response = add_answer(admin, topic=str(money))
    assert response.status_code == 303
    answer = db_session.scalar(select(SavedAnswer))
    assert (answer.title, answer.topic_id) == ("Payment is late", money)
    listing = admin.get("/admin/support/answers").text
    assert "Payment is late" in listing and "Money and payments" in listing
    edit = admin.get(f"/admin/support/answers/{answer.id}")
    assert edit.status_code == 200 and "Hello {name}" in edit.text
    response = admin.post_form(f"/admin/support/answers/{answer.id}", {
        "idempotency_key": key_of(edit.text), "title": "Late payment", "text": "Wait a day.", "topic_id": ""})
    assert response.status_code == 303
    db_session.expire_all()
    assert (db_session.get(SavedAnswer, answer.id).title, db_session.get(SavedAnswer, answer.id).topic_id) == (
        "Late payment", None)
    assert admin.post_form(f"/admin/support/answers/{answer.id}/delete").status_code == 303
    assert db_session.scalar(select(SavedAnswer)) is None
    assert admin.get(f"/admin/support/answers/{answer.id}").status_code == 404
    assert admin.post_form(f"/admin/support/answers/{answer.id}/delete").status_code == 404
    assert list(db_session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("saved_answer%"))
                                   .order_by(AuditEvent.id))) == ["saved_answer_added", "saved_answer_changed",
                                                                  "saved_answer_deleted"]


def test_a_saved_answer_is_added_once_and_bad_input_is_refused_next_to_its_fields(admin, db_session):
    page = admin.get("/admin/support/answers").text
    data = {"idempotency_key": key_of(page), "title": "T", "text": "X", "topic_id": ""}
    admin.post_form("/admin/support/answers", data)
    admin.post_form("/admin/support/answers", data)
    assert db_session.scalar(select(func.count()).select_from(SavedAnswer)) == 1
    response = add_answer(admin, title="", text=" ")
    assert response.status_code == 422
    assert 'id="title-error"' in response.text and 'id="text-error"' in response.text
    assert add_answer(admin, topic="999").status_code == 422
    answer = db_session.scalar(select(SavedAnswer.id))
    edit = admin.post_form(f"/admin/support/answers/{answer}", {"title": "", "text": "X", "topic_id": ""})
    assert edit.status_code == 422 and 'id="title-error"' in edit.text


@pytest.fixture
def request_id(customer, db_session):
    assert open_request(customer).status_code == 303
    return db_session.scalar(select(SupportRequest.id))


def test_support_inserts_a_saved_answer_without_js_then_sends_it(app, admin, customer, request_id, db_session):
    add_answer(admin)
    answer = db_session.scalar(select(SavedAnswer.id))
    agent = staff_client(app, db_session, role="support")
    page = agent.get(f"/admin/support/{request_id}").text
    assert f'<option value="{answer}">Payment is late</option>' in page and ">Insert</button>" in page
    key = key_of(page)
    response = agent.post_form(f"/admin/support/{request_id}/insert",
                               {"idempotency_key": key, "text": "Hi.", "answer": str(answer), "insert": "1"})
    assert response.status_code == 200 and "<html" in response.text
    customer_name = db_session.get(SupportRequest, request_id).account.customer.name
    filled = f"Hello {customer_name}, the money for +7 916 123-45-67 is on its way."
    assert f"Hi.\n\n{filled}</textarea>" in response.text
    assert key_of(response.text) == key  # the same submission: Send after inserting sends once
    assert db_session.scalar(select(func.count()).select_from(SupportMessage)) == 1  # nothing sent
    sent = agent.post_form(f"/admin/support/{request_id}/reply", {"idempotency_key": key, "text": filled})
    assert sent.status_code == 303
    assert filled in customer.get(f"/support/{request_id}").text


def test_with_htmx_only_the_answer_box_comes_back(app, admin, request_id, db_session):
    add_answer(admin, text="Dear {name}")
    answer = db_session.scalar(select(SavedAnswer.id))
    page = admin.get(f"/admin/support/{request_id}").text
    response = admin.post_form(f"/admin/support/{request_id}/insert",
                               {"idempotency_key": key_of(page), "text": "", "answer": str(answer)}, headers=HTMX)
    assert response.status_code == 200 and "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="reply-compose">') and "Dear Customer" in response.text
    refused = admin.post_form(f"/admin/support/{request_id}/insert",
                              {"idempotency_key": key_of(page), "text": "typed", "answer": ""}, headers=HTMX)
    assert refused.status_code == 422 and 'id="answer-error"' in refused.text and "typed</textarea>" in refused.text


def test_inserting_needs_the_csrf_token_and_a_real_request(admin, request_id):
    assert admin.post(f"/admin/support/{request_id}/insert", data={"answer": "1"}).status_code == 400
    assert admin.post_form("/admin/support/999/insert", {"answer": "1"}).status_code == 404
    assert admin.post_form(f"/admin/support/{request_id}/insert", {"answer": "999"}).status_code == 422
    assert admin.post_form(f"/admin/support/{request_id}/insert", {"answer": "9" * 20}).status_code == 422


def test_readers_see_the_name_in_their_language_else_the_other(admin, customer, db_session):
    page = admin.get("/admin/support/topics").text
    admin.post_form("/admin/support/topics", {"idempotency_key": key_of(page), "code": "roaming", "name_ru": "",
                                              "name_en": "Roaming"})
    customer.post_form("/auth/language", {"lang": "ru"})
    form = customer.get("/support/").text
    assert '<option value="money">Деньги и платежи</option>' in form
    assert '<option value="roaming">Roaming</option>' in form
