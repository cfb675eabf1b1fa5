"""Support requests: states, the overdue rule, one SMS per staff answer, quiet hours hold it, the daily quota."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.domain import alerts
from portal.domain.audit import SYSTEM, Actor
from portal.domain.errors import NotFound
from portal.domain.support import requests as support
from portal.models import AuditEvent, HeldAlert, SmsMessage, SupportMessage, SupportRequest
from tests import factories

NOON = datetime(2026, 11, 20, 9, 0)  # UTC; 12:00 in Moscow
NIGHT = datetime(2026, 11, 20, 20, 30)  # UTC; 23:30 in Moscow
KEY = "k" * 24


@pytest.fixture
def login(db_session):
    line = factories.make_line(db_session, "+79161234567")
    login = factories.make_login(db_session, line)
    db_session.commit()
    return login


@pytest.fixture
def agent(db_session):
    return factories.make_staff(db_session)


def open_one(db_session, login, *, now=NOON, key=KEY, text="The internet is slow in the evenings.", per_day=10):
    return support.open_request(db_session, login_id=login.id, account_id=login.primary_account_id, category="quality",
                                text=text, idempotency_key=key, actor=Actor(login_id=login.id), now=now,
                                per_day=per_day)


def answer(db_session, request_id, agent, *, text="We are looking into it.", internal=False, key="a" * 24,
           now=NOON):
    return support.reply_as_staff(db_session, request_id=request_id, staff_id=agent.id, text=text, internal=internal,
                                  idempotency_key=key, actor=Actor(staff_id=agent.id), now=now)


def support_sms(db_session):
    return list(db_session.scalars(select(SmsMessage).where(SmsMessage.to == "+79161234567")))


def test_opening_a_request_keeps_the_first_message_and_waits_for_staff(db_session, login):
    outcome = open_one(db_session, login)
    request = db_session.get(SupportRequest, outcome.request_id)
    assert (request.state, request.category, request.awaiting_since) == ("new", "quality", NOON)
    assert request.subject == "The internet is slow in the evenings."
    assert [m.text for m in request.messages] == ["The internet is slow in the evenings."]
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "support_request")) \
        == "support_opened"


def test_the_same_form_twice_opens_one_request(db_session, login):
    assert open_one(db_session, login).done
    assert not open_one(db_session, login).done
    assert db_session.query(SupportRequest).count() == 1


def test_a_login_may_open_only_so_many_requests_a_day(db_session, login):
    for i in range(3):
        open_one(db_session, login, key=f"key-{i}".ljust(20, "x"), per_day=3, now=NOON + timedelta(minutes=i))
    with pytest.raises(support.TooManyRequests) as refused:
        open_one(db_session, login, key="key-4".ljust(20, "x"), per_day=3, now=NOON + timedelta(hours=1))
    assert refused.value.retry_after == NOON + timedelta(days=1)
    assert open_one(db_session, login, key="key-5".ljust(20, "x"), per_day=3, now=NOON + timedelta(days=1, minutes=1))


def test_empty_or_unknown_input_is_refused_on_its_field(db_session, login):
    with pytest.raises(support.InvalidRequest) as refused:
        open_one(db_session, login, text="   ")
    assert refused.value.field == "text"
    with pytest.raises(support.InvalidRequest) as refused:
        support.open_request(db_session, login_id=login.id, account_id=login.primary_account_id, category="x",
                             text="Hi", idempotency_key=KEY, actor=SYSTEM, now=NOON, per_day=10)
    assert refused.value.field == "category"


def test_a_staff_answer_waits_for_the_customer_and_sends_one_sms(db_session, login, agent):
    request_id = open_one(db_session, login).request_id
    assert answer(db_session, request_id, agent).done
    assert not answer(db_session, request_id, agent).done  # a double click: one answer, one SMS
    request = db_session.get(SupportRequest, request_id)
    assert (request.state, request.awaiting_since, request.assigned_staff_id) == ("waiting", None, agent.id)
    assert [m.text for m in support_sms(db_session)] == [
        f"TestTel: support answered your request #{request_id}. Read it in your personal account."]
    answer(db_session, request_id, agent, text="Fixed now.", key="b" * 24)
    assert len(support_sms(db_session)) == 2  # one per answer


def test_an_internal_note_sends_nothing_and_the_customer_never_sees_it(db_session, login, agent):
    request_id = open_one(db_session, login).request_id
    answer(db_session, request_id, agent, text="Known issue at the tower.", internal=True)
    request = db_session.get(SupportRequest, request_id)
    assert request.state == "new" and request.awaiting_since == NOON
    assert support_sms(db_session) == []
    assert [m.text for m in support.thread(db_session, request_id, with_notes=False)] == [
        "The internet is slow in the evenings."]
    assert len(support.thread(db_session, request_id, with_notes=True)) == 2


def test_quiet_hours_hold_the_answer_sms_until_they_end(db_session, login, agent):
    alerts.save_settings(db_session, account_id=login.primary_account_id, low_balance_below=None, on_payment=True,
                         on_change=False, on_new_device=True, on_every_login=False, quiet_from=23 * 60,
                         quiet_to=8 * 60, actor=SYSTEM, now=NOON)
    request_id = open_one(db_session, login, now=NIGHT).request_id
    answer(db_session, request_id, agent, now=NIGHT)
    assert support_sms(db_session) == []
    held = db_session.scalar(select(HeldAlert))
    assert held.event == "support" and held.hold_until == datetime(2026, 11, 21, 5, 0)
    alerts.release_due(db_session, now=datetime(2026, 11, 21, 5, 1))
    assert len(support_sms(db_session)) == 1


def test_a_home_contract_gets_the_sms_on_its_contact_phone(db_session, agent):
    home = factories.make_home_contract(db_session, "HC-100300")
    home.home_contract.contact_phone = "+79035550011"
    login = factories.make_login(db_session, home)
    db_session.commit()
    request_id = open_one(db_session, login).request_id
    answer(db_session, request_id, agent)
    assert db_session.scalar(select(SmsMessage.to)) == "+79035550011"


def test_the_customer_reply_reopens_the_wait_and_a_closed_request_takes_no_reply(db_session, login, agent):
    request_id = open_one(db_session, login).request_id
    answer(db_session, request_id, agent)
    later = NOON + timedelta(hours=2)
    support.reply_as_customer(db_session, request_id=request_id, login_id=login.id, text="Still slow.",
                              idempotency_key="c" * 24, actor=SYSTEM, now=later)
    request = db_session.get(SupportRequest, request_id)
    assert (request.state, request.awaiting_since) == ("in_progress", later)
    support.close_by_customer(db_session, request_id=request_id, login_id=login.id, actor=SYSTEM, now=later)
    assert db_session.get(SupportRequest, request_id).state == "closed"
    with pytest.raises(support.RequestClosed):
        support.reply_as_customer(db_session, request_id=request_id, login_id=login.id, text="Hello?",
                                  idempotency_key="d" * 24, actor=SYSTEM, now=later)


def test_another_login_cannot_touch_a_request(db_session, login):
    request_id = open_one(db_session, login).request_id
    other = factories.make_login(db_session, factories.make_line(db_session, "+79031112233"))
    db_session.commit()
    with pytest.raises(NotFound):
        support.request_of_login(db_session, request_id, other.id)
    with pytest.raises(NotFound):
        support.reply_as_customer(db_session, request_id=request_id, login_id=other.id, text="x",
                                  idempotency_key="e" * 24, actor=SYSTEM, now=NOON)
    db_session.rollback()
    with pytest.raises(NotFound):
        support.close_by_customer(db_session, request_id=request_id, login_id=other.id, actor=SYSTEM, now=NOON)


def test_a_closed_request_is_rated_once(db_session, login):
    request_id = open_one(db_session, login).request_id
    with pytest.raises(support.InvalidRequest):
        support.rate(db_session, request_id=request_id, login_id=login.id, rating=5, comment="", actor=SYSTEM,
                     now=NOON)
    db_session.rollback()
    support.close_by_customer(db_session, request_id=request_id, login_id=login.id, actor=SYSTEM, now=NOON)
    support.rate(db_session, request_id=request_id, login_id=login.id, rating=4, comment=" Quick. ", actor=SYSTEM,
                 now=NOON)
    request = db_session.get(SupportRequest, request_id)
    assert (request.rating, request.rating_comment) == (4, "Quick.")
    with pytest.raises(support.InvalidRequest):
        support.rate(db_session, request_id=request_id, login_id=login.id, rating=1, comment="", actor=SYSTEM,
                     now=NOON)


def test_overdue_counts_from_the_customers_last_unanswered_message(db_session, login, agent):
    request_id = open_one(db_session, login).request_id
    request = db_session.get(SupportRequest, request_id)
    assert not support.is_overdue(request, now=NOON + timedelta(hours=23), response_hours=24)
    assert support.is_overdue(request, now=NOON + timedelta(hours=24), response_hours=24)
    answer(db_session, request_id, agent)
    assert not support.is_overdue(request, now=NOON + timedelta(days=5), response_hours=24)
    later = NOON + timedelta(days=2)
    support.reply_as_customer(db_session, request_id=request_id, login_id=login.id, text="Still slow.",
                              idempotency_key="c" * 24, actor=SYSTEM, now=later)
    assert not support.is_overdue(request, now=later + timedelta(hours=3), response_hours=4)
    assert support.is_overdue(request, now=later + timedelta(hours=4), response_hours=4)
    ids = [r.id for r in support.queue(db_session, view="overdue", category=None, staff_id=agent.id,
                                       now=later + timedelta(hours=4), response_hours=4)]
    assert ids == [request_id]


def test_the_queue_filters_by_view_and_category_oldest_first(db_session, login, agent):
    first = open_one(db_session, login, key="f" * 24).request_id
    second = open_one(db_session, login, key="g" * 24, now=NOON + timedelta(minutes=5)).request_id
    third = support.open_request(db_session, login_id=login.id, account_id=login.primary_account_id,
                                 category="money", text="Where is my payment?", idempotency_key="h" * 24,
                                 actor=SYSTEM, now=NOON, per_day=10).request_id
    support.assign(db_session, request_id=second, staff_id=agent.id, actor=SYSTEM, now=NOON)
    answer(db_session, third, agent)

    def ids(view, category=None):
        return [r.id for r in support.queue(db_session, view=view, category=category, staff_id=agent.id,
                                            now=NOON, response_hours=24)]

    assert ids("open") == [first, second, third]
    assert ids("new") == [first]
    assert ids("mine") == [second, third]
    assert ids("waiting") == [third]
    assert ids("open", "money") == [third]
    assert db_session.get(SupportRequest, second).state == "in_progress"


def test_staff_change_the_state_and_each_step_is_audited(db_session, login, agent):
    request_id = open_one(db_session, login).request_id
    actor = Actor(staff_id=agent.id)
    support.set_state(db_session, request_id=request_id, state="closed", actor=actor, now=NOON)
    request = db_session.get(SupportRequest, request_id)
    assert (request.state, request.closed_at, request.awaiting_since) == ("closed", NOON, None)
    support.set_state(db_session, request_id=request_id, state="in_progress", actor=actor, now=NOON)
    assert request.awaiting_since == NOON and request.closed_at is None
    with pytest.raises(support.InvalidRequest):
        support.set_state(db_session, request_id=request_id, state="lost", actor=actor, now=NOON)
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.staff_id == agent.id)).all()
    assert actions == ["support_state_changed", "support_state_changed"]


def test_a_message_has_one_author(db_session, login):
    request_id = open_one(db_session, login).request_id
    assert db_session.scalar(select(SupportMessage.login_id).where(SupportMessage.request_id == request_id)) \
        == login.id
