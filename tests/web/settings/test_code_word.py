"""The code word for support: the customer sets, changes and removes it (SMS each time); staff see that one is set,
check a caller's answer and learn only whether it matches; checks are audited and limited."""
import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, CodeWord, SmsMessage
from tests import factories
from tests.web.admin.test_admin import staff_sign_in

MSISDN = "+79161234567"


@pytest.fixture
def customer(client, db_session, login_as):
    login_as(MSISDN)
    return client


def set_word(client, word):
    return client.post_form("/settings/code-word", {"word": word})


def test_setting_the_word_keeps_only_a_hash_and_tells_the_owner(customer, db_session):
    assert "Not set" in customer.get("/settings/code-word").text
    response = set_word(customer, "  Red   Fox ")
    assert response.status_code == 303
    row = db_session.scalar(select(CodeWord))
    assert "fox" not in row.word_hash.lower() and "Set on" in customer.get("/settings/code-word").text
    sms = db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "alert")).all()
    assert any("code word for calls to support was set or changed" in text for text in sms)
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.action == "code_word_set"))


@pytest.mark.parametrize("word", ["abc", "x" * 41])
def test_a_word_too_short_or_too_long_is_refused_next_to_the_field(customer, db_session, word):
    response = set_word(customer, word)
    assert response.status_code == 422 and 'id="word-error"' in response.text
    assert db_session.scalar(select(func.count()).select_from(CodeWord)) == 0


def test_removing_needs_the_token_and_tells_the_owner(customer, db_session):
    set_word(customer, "red fox")
    assert customer.post("/settings/code-word/remove").status_code == 400
    assert customer.post_form("/settings/code-word/remove").status_code == 303
    assert db_session.scalar(select(func.count()).select_from(CodeWord)) == 0
    assert "Not set" in customer.get("/settings/code-word").text


def test_staff_check_an_answer_and_learn_only_whether_it_matches(app, customer, db_session):
    set_word(customer, "Red Fox")
    customer_id = factories.ensure_login(db_session, MSISDN).primary_account.customer_id
    staff = app.test_client()
    factories.make_staff(db_session)
    staff_sign_in(staff)
    page = staff.get(f"/admin/customers/{customer_id}").text
    assert "Ask the caller for the code word" in page and "Red Fox" not in page
    right = staff.post_form(f"/admin/customers/{customer_id}/code-word", {"answer": "red  fox"})
    assert right.status_code == 303 and "The answer matches" in staff.get(right.location).text
    wrong = staff.post_form(f"/admin/customers/{customer_id}/code-word", {"answer": "blue fox"})
    assert "does NOT match" in staff.get(wrong.location).text
    details = db_session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "code_word_checked")).all()
    assert sorted(details) == ["does not match", "matches"]


def test_checks_are_limited_per_customer(app, customer, db_session):
    set_word(customer, "Red Fox")
    customer_id = factories.ensure_login(db_session, MSISDN).primary_account.customer_id
    staff = app.test_client()
    factories.make_staff(db_session)
    staff_sign_in(staff)
    url = f"/admin/customers/{customer_id}/code-word"
    codes = [staff.post_form(url, {"answer": f"guess {n}"}).status_code for n in range(6)]
    assert codes == [303] * 5 + [429]


def test_an_empty_answer_is_said_next_to_the_field_and_a_customer_cannot_check(app, customer, db_session):
    set_word(customer, "Red Fox")
    customer_id = factories.ensure_login(db_session, MSISDN).primary_account.customer_id
    assert customer.post_form(f"/admin/customers/{customer_id}/code-word", {"answer": "x"}).status_code in (302, 403)
    staff = app.test_client()
    factories.make_staff(db_session)
    staff_sign_in(staff)
    empty = staff.post_form(f"/admin/customers/{customer_id}/code-word", {"answer": ""})
    assert empty.status_code == 422 and 'id="answer-error"' in empty.text
